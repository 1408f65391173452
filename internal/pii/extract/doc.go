// Package extract owns turning a file's bytes into normalised text records
// for personal-data detection: encoding detection and decoding, width
// folding, and format readers (text, CSV/TSV, JSON/JSONL, xlsx, docx, eml,
// zip), each mapping text positions back to offsets in the original bytes.
//
// Read is the entry point: it picks the format from the file name and the
// content, decodes, and calls visit once per Record (a CSV row, a JSON
// object, a letter, an e-mail). Field.Offset maps every position of a
// field's normalised text back to the original byte offset, exact for all
// encodings (UTF-8 with or without BOM, UTF-16LE/BE, Shift_JIS/CP932,
// EUC-JP, ISO-2022-JP) and escapes (JSON \u, XML entities, CSV doubled
// quotes); in e-mail parts under base64 or quoted-printable an offset points
// at the encoded characters, and inside an encoded header word at its
// start. Fields of archive members, OOXML parts included, carry Member and
// offsets within that member's own bytes.
//
// Problems in part of a file (bad bytes, broken JSON, a damaged zip member,
// a zip bomb) go to Read's onErr as *Error values naming the member and
// line; reading continues with the rest.
package extract
