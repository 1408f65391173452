package piicorpus

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckDigits(t *testing.T) {
	if got := luhnComplete("411111111111111"); got != "4111111111111111" {
		t.Errorf("luhnComplete = %s, want 4111111111111111", got)
	}
	if got := luhnComplete("37828224631000"); got != "378282246310005" {
		t.Errorf("luhnComplete = %s, want 378282246310005", got)
	}
	if got := luhnBreak("4111111111111111"); got == "4111111111111111" {
		t.Error("luhnBreak left the number valid")
	}
	// Worked by hand: the weighted sum of 12345678901 is 212, 212 mod 11 = 3.
	if got := myNumberCheck("12345678901"); got != 8 {
		t.Errorf("myNumberCheck = %d, want 8", got)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := New(42), New(42)
	for i := 0; i < 2*Kinds; i++ {
		fa, fb := a.Next(), b.Next()
		if fa.Name != fb.Name || !bytes.Equal(fa.Data, fb.Data) {
			t.Fatalf("file %d differs between two generators with one seed", i)
		}
		if diff := cmp.Diff(fa.Labels, fb.Labels); diff != "" {
			t.Fatalf("labels of %s differ:\n%s", fa.Name, diff)
		}
		if len(fa.Labels) == 0 && fa.Name[:9] != "inventory" {
			t.Errorf("%s has no labels", fa.Name)
		}
	}
}

func TestNorm(t *testing.T) {
	for _, tt := range []struct{ cat, in, want string }{
		{Phone, "+81-90-1234-5678", "09012345678"},
		{Phone, "０３（１２３４）５６７８", "0312345678"},
		{Email, "Taro@Example.JP", "taro@example.jp"},
		{CreditCard, "4111 1111 1111 1111", "4111111111111111"},
		{PersonName, "山田　太郎", "山田太郎"},
	} {
		if got := Norm(tt.cat, tt.in); got != tt.want {
			t.Errorf("Norm(%s, %q) = %q, want %q", tt.cat, tt.in, got, tt.want)
		}
	}
}
