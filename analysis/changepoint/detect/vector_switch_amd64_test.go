//go:build !purego

package detect

// withAVX512 runs f with the AVX-512 loops on and then off (if the
// processor has them), so that the tests cover the AVX2 loops too.
func withAVX512(f func(on bool)) {
	saved := vectorAVX512
	defer func() { vectorAVX512 = saved }()
	for _, on := range []bool{true, false} {
		if on && !saved {
			continue
		}
		vectorAVX512 = on
		f(on)
	}
}
