package rank

import (
	"encoding/json"
	"math"
	"testing"
)

func TestValuesJSON(t *testing.T) {
	b, err := json.Marshal(Values{1.5, math.NaN(), math.Inf(1), -2})
	if err != nil || string(b) != "[1.5,null,null,-2]" {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var v Values
	if err := json.Unmarshal(b, &v); err != nil || len(v) != 4 || v[0] != 1.5 || !math.IsNaN(v[1]) || v[3] != -2 {
		t.Fatalf("unmarshal: %v, %v", v, err)
	}
}
