// Package piicorpus generates labelled corpora for measuring personal-data
// detection: Japanese customer lists in UTF-8 and CP932, JSONL orders,
// letters with full-width digits, UTF-16 exports, e-mails and logs full of
// decoys, each file with the set of personal values it truly contains.
//
// Its formats are written independently of the detectors (own check-digit
// code, own normalisation) so that the accuracy test cannot pass by
// construction.
package piicorpus
