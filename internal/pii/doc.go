// Package pii finds personal data in scanned files and groups it into data
// subjects, for the breach notifications Japan's APPI requires.
//
// Detection runs on the normalised text fields that the extract subpackage
// produces (decoding, width folding, CSV/JSON/xlsx/docx/eml/zip readers) and
// maps every hit back to its offset in the original bytes. One byte loop per
// field stops only where a value or a context word can start (digits, '@',
// ':', prefecture and honorific runes); validators decide:
//
//   - email: RFC-ish local part, a real-looking domain and TLD;
//   - phone: the Japanese numbering plan (mobile, IP, free dial, landlines
//     with 1–5 digit area codes, +81 forms) and E.164 with a country code;
//   - credit_card: Luhn, issuer range and length, consistent grouping;
//   - my_number: the check digit and a keyword or column;
//   - drivers_license, passport, bank_account, postal_code, date_of_birth:
//     their formats plus a keyword or column;
//   - person_name and address: column and JSON keys, "label: value" lines,
//     honorifics (様, 殿, さん, Mr., Dear), prefecture-led Japanese and
//     US-style Western addresses.
//
// Context is the nearest keyword before a value, else the field's key: a
// nearer non-personal word (注文番号, order, serial, sku, build …) or a
// non-personal column silences numbers however valid they look.
//
// Values of one extract.Record (a CSV row, a JSON object, a letter) are one
// data subject; records sharing an e-mail, phone, card or ID number merge.
package pii
