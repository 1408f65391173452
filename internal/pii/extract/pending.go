package extract

import "errors"

// Interim: formats not yet read structurally fall back to text.

func (r *reader) readEML(name, member string, d *doc, depth int) error {
	return r.readText(d, member, false)
}

func (r *reader) readZip(name, member string, data []byte, depth int, f format) error {
	r.report(member, 0, errors.New("archives are not read yet"))
	return nil
}

func looksLikeEML(string) bool { return false }
