package pe

import (
	"bytes"
	"crypto/sha1"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Signature is one entry of pe.signatures: a certificate that signed the
// file (or a nested signature), formatted as OpenSSL formats it for
// libyara.
type Signature struct {
	Thumbprint   string  // thumbprint: SHA-1 of the certificate, lower-case hex
	Issuer       string  // issuer, in X509_NAME_oneline form "/C=US/O=..."
	Subject      string  // subject
	Version      int64   // version (1-based)
	Algorithm    string  // algorithm: OpenSSL's long name of the signature algorithm
	AlgorithmOID string  // algorithm_oid
	Serial       *string // serial: "0a:1b:..." (nil for serials longer than 20 bytes)
	NotBefore    int64   // not_before, Unix seconds
	NotAfter     int64   // not_after
}

// ValidOn is pe.signatures[i].valid_on(timestamp).
func (s Signature) ValidOn(ts int64) bool { return s.NotBefore <= ts && ts <= s.NotAfter }

var (
	oidNestedSignature = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 4, 1}
	oidSignedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
)

// parseCertificates mirrors pe_parse_certificates: WIN_CERTIFICATE records
// of revision 2.0 and type PKCS#7 signed data in the security directory.
func (f *File) parseCertificates() {
	va, size, ok := f.directory(4)
	if !ok {
		return
	}
	var count int64
	f.NumberOfSignatures = &count
	n := uint64(len(f.data))
	if va == 0 || uint64(va) > n || uint64(size) > n || uint64(va)+uint64(size) > n {
		return
	}
	eod := int64(va) + int64(size)
	for wc := int64(va); ; {
		if !f.fits(wc, 8) {
			break
		}
		length := int64(f.u32(wc))
		if length <= 8 || !f.fits(wc, length) || wc+8 >= eod || wc+length > eod {
			break
		}
		rev, typ := f.u16(wc+4), f.u16(wc+6)
		if rev != 0x0100 && rev != 0x0200 {
			break
		}
		end := wc + length
		if rev == 0x0200 && typ == 2 {
			rest := f.data[wc+8 : end]
			for len(rest) > 0 && len(f.Signatures) < maxCerts {
				var raw asn1.RawValue
				tail, err := asn1.Unmarshal(rest, &raw)
				if err != nil {
					break
				}
				f.parsePKCS7(raw.FullBytes)
				rest = tail
			}
		}
		wc = (end + 7) &^ 7
	}
	count = int64(len(f.Signatures))
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	ContentInfo      asn1.RawValue
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial asn1.RawValue
}

type signerInfo struct {
	Version         int
	IssuerAndSerial issuerAndSerial
	DigestAlgorithm asn1.RawValue
	AuthAttrs       asn1.RawValue `asn1:"optional,tag:0"`
	DigestEncAlg    asn1.RawValue
	EncryptedDigest []byte
	UnauthAttrs     []attribute `asn1:"optional,tag:1"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// certificate holds the parts of an X.509 certificate libyara reports,
// kept raw so that names and serials are rendered as OpenSSL renders them.
type certificate struct {
	raw             []byte
	version         int64
	serial          asn1.RawValue
	sigAlg          asn1.ObjectIdentifier
	issuer, subject []byte
	notBefore       int64
	notAfter        int64
}

func parseCertificate(der []byte) (*certificate, error) {
	var outer struct {
		TBS    asn1.RawValue
		SigAlg struct {
			Algorithm asn1.ObjectIdentifier
			Params    asn1.RawValue `asn1:"optional"`
		}
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, err
	}
	var tbs struct {
		Version  int `asn1:"optional,explicit,default:0,tag:0"`
		Serial   asn1.RawValue
		SigAlg   asn1.RawValue
		Issuer   asn1.RawValue
		Validity struct {
			NotBefore, NotAfter asn1.RawValue
		}
		Subject asn1.RawValue
		// encoding/asn1 tolerates the remaining fields (key, extensions),
		// which libyara does not report.
	}
	if _, err := asn1.Unmarshal(outer.TBS.FullBytes, &tbs); err != nil {
		return nil, err
	}
	nb, err := asn1Time(tbs.Validity.NotBefore)
	if err != nil {
		return nil, err
	}
	na, err := asn1Time(tbs.Validity.NotAfter)
	if err != nil {
		return nil, err
	}
	return &certificate{
		raw: der, version: int64(tbs.Version), serial: tbs.Serial,
		sigAlg: outer.SigAlg.Algorithm, issuer: tbs.Issuer.FullBytes, subject: tbs.Subject.FullBytes,
		notBefore: nb, notAfter: na,
	}, nil
}

func asn1Time(v asn1.RawValue) (int64, error) {
	var t time.Time
	if v.Tag != asn1.TagUTCTime && v.Tag != asn1.TagGeneralizedTime {
		return 0, fmt.Errorf("time of ASN.1 tag %d", v.Tag)
	}
	_, err := asn1.Unmarshal(v.FullBytes, &t)
	return t.Unix(), err
}

// parsePKCS7 mirrors _parse_pkcs7: the signer certificates of every
// SignerInfo, then the nested signatures of the first SignerInfo.
func (f *File) parsePKCS7(der []byte) {
	if len(f.Signatures) >= maxCerts {
		return
	}
	var ci contentInfo
	if _, err := asn1.Unmarshal(der, &ci); err != nil || !ci.ContentType.Equal(oidSignedData) {
		return
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return
	}
	var certs []*certificate
	for rest := sd.Certificates.Bytes; len(rest) > 0; {
		var raw asn1.RawValue
		tail, err := asn1.Unmarshal(rest, &raw)
		if err != nil {
			break
		}
		rest = tail
		if c, err := parseCertificate(raw.FullBytes); err == nil {
			certs = append(certs, c)
		}
	}
	// PKCS7_get0_signers fails as a whole when any signer is missing.
	var signers []*certificate
	for _, si := range sd.SignerInfos {
		var found *certificate
		for _, c := range certs {
			if bytes.Equal(c.issuer, si.IssuerAndSerial.Issuer.FullBytes) &&
				bytes.Equal(c.serial.Bytes, si.IssuerAndSerial.Serial.Bytes) {
				found = c
				break
			}
		}
		if found == nil {
			return
		}
		signers = append(signers, found)
	}
	if len(signers) == 0 {
		return
	}
	for _, c := range signers {
		if len(f.Signatures) >= maxCerts {
			break
		}
		f.Signatures = append(f.Signatures, c.signature())
	}
	for _, a := range sd.SignerInfos[0].UnauthAttrs {
		if !a.Type.Equal(oidNestedSignature) {
			continue
		}
		for j, v := range a.Values {
			if j >= maxCerts {
				break
			}
			f.parsePKCS7(v.FullBytes)
		}
		break
	}
}

func (c *certificate) signature() Signature {
	sum := sha1.Sum(c.raw)
	s := Signature{
		Thumbprint:   hex.EncodeToString(sum[:]),
		Issuer:       nameOneline(c.issuer),
		Subject:      nameOneline(c.subject),
		Version:      c.version + 1,
		AlgorithmOID: c.sigAlg.String(),
		NotBefore:    c.notBefore,
		NotAfter:     c.notAfter,
	}
	s.Algorithm = oidLongName(c.sigAlg)
	if b := c.serial.Bytes; len(b) > 0 && len(b) <= 20 {
		parts := make([]string, len(b))
		for i, x := range b {
			parts[i] = fmt.Sprintf("%02x", x)
		}
		serial := strings.Join(parts, ":")
		s.Serial = &serial
	}
	return s
}

// nameOneline renders a DER Name as OpenSSL's X509_NAME_oneline into a
// 256-byte buffer: "/SN=value" per attribute, bytes outside ' '..'~' as
// \xHH, attributes that would overflow the buffer dropped.
func nameOneline(der []byte) string {
	var rdns []asn1.RawValue
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return ""
	}
	for rest := seq.Bytes; len(rest) > 0; {
		var set asn1.RawValue
		tail, err := asn1.Unmarshal(rest, &set)
		if err != nil {
			break
		}
		rest = tail
		for inner := set.Bytes; len(inner) > 0; {
			var atv asn1.RawValue
			t2, err := asn1.Unmarshal(inner, &atv)
			if err != nil {
				break
			}
			inner = t2
			rdns = append(rdns, atv)
		}
	}
	var b strings.Builder
	const limit = 255
	for _, atv := range rdns {
		var pair struct {
			Type  asn1.ObjectIdentifier
			Value asn1.RawValue
		}
		if _, err := asn1.Unmarshal(atv.FullBytes, &pair); err != nil {
			continue
		}
		sn := oidShortName(pair.Type)
		q := pair.Value.Bytes
		doit := [4]bool{true, true, true, true}
		if pair.Value.Tag == 27 && len(q)%4 == 0 { // GeneralString
			var nz [4]bool
			for j, c := range q {
				if c != 0 {
					nz[j&3] = true
				}
			}
			if !(nz[0] || nz[1] || nz[2]) {
				doit = [4]bool{false, false, false, true}
			}
		}
		var v strings.Builder
		for j, c := range q {
			if !doit[j&3] {
				continue
			}
			if c < ' ' || c > '~' {
				fmt.Fprintf(&v, "\\x%02X", c)
			} else {
				v.WriteByte(c)
			}
		}
		if b.Len()+2+len(sn)+v.Len() > limit {
			break
		}
		b.WriteString("/" + sn + "=" + v.String())
	}
	return b.String()
}
