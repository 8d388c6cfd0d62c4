package remediation

import "testing"

func TestDemoRunbooksParse(t *testing.T) {
	for _, src := range demoRunbooks {
		if _, err := Parse([]byte(src)); err != nil {
			t.Fatal(err)
		}
	}
}
