// Package notify owns individual breach notices: a campaign (templates in
// Japanese and English, the incident facts by language, the people it goes
// to) and the outbox that sends each notice exactly once, by e-mail or by
// letter, and keeps the record that proves who was told, how and when.
//
// # Content
//
// Templates are Go text/template (subject, text) and html/template (HTML)
// over Data: the person (name, exposed items with masked values) and the
// incident facts that APPI's Enforcement Rules require in an individual
// notice (overview, the data concerned, cause, secondary harm) with a
// contact point. A notice is in the person's language, template and facts
// alike (Campaign.NoticeLanguage); a person whose language the campaign has
// no facts in gets the fallback language's notice or is refused when the
// campaign is made. ParseTemplates refuses a template that names a field Data
// does not have, in any branch, before approval; nothing fails at send time.
// Letters carry the text part, laid out by package letter.
//
// # The outbox and exactly once
//
// Each notice is a row per (campaign, person, channel) that moves
//
//	queued → sending → sent | failed | bounced | unknown
//
// and every move is a compare-and-set on the row's state, applied in a
// durable transaction (Outbox.Apply). The sender:
//
//  1. marks the row sending and waits until that is durable;
//  2. runs the SMTP transaction (MAIL, RCPT, DATA, the message, the dot);
//  3. records the outcome: sent only after the server's 250 reply to the
//     dot. The resume point never moves before that reply.
//
// Outcomes: 250 → sent. A 5xx to RCPT, DATA or the dot is a hard bounce →
// bounced, and a letter row is queued in the same transaction when the
// person has a postal address. A 5xx to MAIL (the sender's problem, not the
// recipient's) → failed. A 4xx or a network error before the dot → queued
// again with backoff, failed after MaxAttempts. A cancelled run hands an
// unsent row back untouched.
//
// The crash rule. A row found in sending when a sender starts (the previous
// one was killed, or lost the connection after writing the dot and before
// reading the reply) may or may not have reached the server. It is retried
// only after a check by its Message-ID, which is derived from the campaign
// and the person and is the same on every attempt: a Checker (the Maildir
// that receives what the relay accepts, or the relay's log) that finds it
// makes the row sent; one that does not find it makes the row queued again.
// The check waits until SettleAfter (30s) has passed since the row became
// sending, so that a relay still finishing the dead sender's DATA is not
// taken for one that never got it. Without a Checker, or when the check
// fails, the row becomes unknown for a
// person to decide (send again or not); it is never resent blindly. Rows
// left sending are settled while the sender holds the campaign's lease, so
// a live sender's rows are never mistaken for a dead one's.
//
// Several senders may share one outbox (one per campaign at a time, by
// lease; the claim's compare-and-set would stop a double send regardless).
//
// # Bounces and letters
//
// Delivery status notifications (RFC 3464), read from a Maildir or given as
// files, are matched to rows by the original Message-ID: a permanent
// failure (5.x.x) makes the row bounced and queues a letter; a transient
// one (4.x.x) queues the e-mail again with backoff. Letters are printed in
// named batches (queued → sending, the PDF and the contractor's CSV; the
// same batch name reprints the same letters) and marked sent with the
// posting date the operator gives.
//
// Packages: smtpout is the SMTP client (relay, STARTTLS, AUTH, pipelining,
// per-domain limits); letter lays out the PDF; sqlitebox stores campaigns
// and the outbox in a SQLite file of their own (mamori notify), storebox in
// the server's store (both dialects); notifyapi serves campaigns on the
// server's API and sends them in the background; notifytest is the real
// SMTP server the tests run on loopback and the contract both outboxes
// pass.
package notify
