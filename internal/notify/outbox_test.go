package notify

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCampaignStoredFacts: a campaign stored before texts were kept by
// language reads its single facts as its default language's texts; one
// stored with texts keeps them.
func TestCampaignStoredFacts(t *testing.T) {
	ja := Facts{Organization: "株式会社例", Summary: "概要", Cause: "原因", SecondaryHarm: "なし", Contact: "窓口"}
	en := Facts{Organization: "Example K.K.", Summary: "summary", Cause: "cause", SecondaryHarm: "none", Contact: "desk"}
	for _, tc := range []struct {
		name, doc string
		want      map[string]Facts
	}{
		{"old", `{"id":"c-1","default_language":"ja","facts":{"organization":"株式会社例","summary":"概要","cause":"原因","secondary_harm":"なし","contact":"窓口"}}`,
			map[string]Facts{"ja": ja}},
		{"texts", `{"id":"c-1","default_language":"ja","texts":{"en":{"organization":"Example K.K.","summary":"summary","cause":"cause","secondary_harm":"none","contact":"desk"}}}`,
			map[string]Facts{"en": en}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Campaign
			if err := json.Unmarshal([]byte(tc.doc), &c); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.Texts, tc.want); diff != "" {
				t.Errorf("texts (-got +want):\n%s", diff)
			}
			if c.ID != "c-1" || c.Language != "ja" {
				t.Errorf("campaign %+v", c)
			}
		})
	}
}
