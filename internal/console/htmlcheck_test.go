package console

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkHTML checks what the console promises of every page: well-formed
// nesting, a lang attribute, unique ids, every form control labelled,
// and no inline script or style (the CSP would block them anyway).
func checkHTML(doc string, fragment bool) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	z := html.NewTokenizer(strings.NewReader(doc))
	var stack []string
	ids := map[string]int{}
	labelFor := map[string]bool{}
	type control struct{ id, tag string }
	var controls []control
	sawDoctype, sawLang := false, false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.DoctypeToken:
			sawDoctype = strings.EqualFold(tok.Data, "html")
		case html.StartTagToken, html.SelfClosingTagToken:
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				if _, dup := attrs[a.Key]; dup {
					bad("<%s> has attribute %s twice", tok.Data, a.Key)
				}
				attrs[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") {
					bad("<%s> has inline handler %s", tok.Data, a.Key)
				}
				if a.Key == "style" {
					bad("<%s> has a style attribute", tok.Data)
				}
			}
			if id, ok := attrs["id"]; ok {
				ids[id]++
			}
			switch tok.Data {
			case "html":
				sawLang = attrs["lang"] != ""
			case "script":
				if attrs["src"] == "" {
					bad("inline <script>")
				}
			case "style":
				bad("inline <style>")
			case "label":
				if attrs["for"] != "" {
					labelFor[attrs["for"]] = true
				}
			case "input", "select", "textarea":
				typ := attrs["type"]
				if typ != "hidden" && typ != "submit" && typ != "button" && attrs["aria-label"] == "" {
					controls = append(controls, control{attrs["id"], tok.Data})
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				bad("</%s> closes %v", tok.Data, stack)
				continue
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		bad("unclosed %v", stack)
	}
	if !fragment && (!sawDoctype || !sawLang) {
		bad("missing <!DOCTYPE html> or <html lang>")
	}
	for id, n := range ids {
		if n > 1 {
			bad("id %q used %d times", id, n)
		}
	}
	for _, c := range controls {
		if c.id == "" || !labelFor[c.id] {
			bad("<%s id=%q> has no label", c.tag, c.id)
		}
	}
	for id := range labelFor {
		if ids[id] == 0 {
			bad("label for %q names no element", id)
		}
	}
	return problems
}
