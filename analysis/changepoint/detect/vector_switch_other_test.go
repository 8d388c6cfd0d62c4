//go:build !amd64 || purego

package detect

// withAVX512 runs f once: there are no AVX-512 loops here.
func withAVX512(f func(on bool)) { f(false) }
