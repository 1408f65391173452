// Package ioc owns hash and filename indicators of compromise: loading them
// from the formats responders receive (plain hash lists, signature-base's
// hash;description and regex;score files, CSV exports) and matching files
// against them as a scan.Matcher.
package ioc
