package demo

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
)

// noticeText reads a notice as its recipient's mail program would: the
// decoded subject and the text/plain part.
func noticeText(msg []byte) (subject, text string, err error) {
	if len(msg) == 0 {
		return "", "", errors.New("no message at the sink")
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return "", "", err
	}
	if subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		return "", "", fmt.Errorf("subject: %w", err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return "", "", err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return "", "", fmt.Errorf("no text/plain part: %w", err)
		}
		if !strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			continue
		}
		var r io.Reader = part
		if part.Header.Get("Content-Transfer-Encoding") == "base64" {
			r = base64.NewDecoder(base64.StdEncoding, part)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return "", "", fmt.Errorf("text part: %w", err)
		}
		return subject, string(b), nil
	}
}
