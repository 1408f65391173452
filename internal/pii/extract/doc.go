// Package extract owns turning a file's bytes into normalised text records
// for personal-data detection: encoding detection and decoding, width
// folding, and format readers (text, CSV/TSV, JSON/JSONL, xlsx, docx, eml,
// zip), each mapping text positions back to offsets in the original bytes.
package extract
