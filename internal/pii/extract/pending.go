package extract


// Interim: formats not yet read structurally fall back to text.

func (r *reader) readEML(name, member string, d *doc, depth int) error {
	return r.readText(d, member, false)
}


func looksLikeEML(string) bool { return false }
