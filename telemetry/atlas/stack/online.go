package stack

// DESPreset holds the parameters of one of Atlas's :des-* and :sdes-*
// words.
type DESPreset struct {
	Training    int
	Alpha, Beta float64
	// Sliding is true for the :sdes- forms.
	Sliding bool
}

// DESPresets are Atlas's double exponential smoothing presets, by word.
var DESPresets = map[string]DESPreset{
	"des-simple": {10, 0.1, 0.5, false}, "des-fast": {10, 0.1, 0.02, false},
	"des-slower": {10, 0.05, 0.03, false}, "des-slow": {10, 0.03, 0.04, false},
	"sdes-simple": {10, 0.1, 0.5, true}, "sdes-fast": {10, 0.1, 0.02, true},
	"sdes-slower": {10, 0.05, 0.03, true}, "sdes-slow": {10, 0.03, 0.04, true},
}

// NewDES returns :des as an online function, for systems that smooth
// series of their own (alerting's bands): fed one value per step, it
// returns the prediction for that step (NaN until training values were
// seen), exactly as the word does.
func NewDES(training int, alpha, beta float64) func(v float64) float64 {
	return newDes(training, alpha, beta).next
}

// NewSDES returns :sdes as an online function for a line whose first
// value is at start, step milliseconds apart (the sliding form restarts
// on multiples of training steps since the epoch).
func NewSDES(start, step int64, training int, alpha, beta float64) func(v float64) float64 {
	return newSdes(&EvalContext{Start: start, Step: step}, training, alpha, beta).next
}
