package celbudget

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// EnvOptions returns the options an environment needs for the budget's
// size limit. They replace the implementations of the strings
// extension's replace and split with ones that compute the size of their
// result before allocating it, so they must come after celext.Strings()
// in cel.NewEnv. An environment built with them must be planned only with
// programs of the same MaxSize (see Program).
func (b Budget) EnvOptions() []cel.EnvOption {
	return []cel.EnvOption{
		cel.Function("replace",
			cel.MemberOverload("string_replace_string_string",
				[]*cel.Type{cel.StringType, cel.StringType, cel.StringType}, cel.StringType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					return b.replace(args[0], args[1], args[2], types.Int(-1))
				})),
			cel.MemberOverload("string_replace_string_string_int",
				[]*cel.Type{cel.StringType, cel.StringType, cel.StringType, cel.IntType}, cel.StringType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					return b.replace(args[0], args[1], args[2], args[3])
				}))),
		cel.Function("split",
			cel.MemberOverload("string_split_string",
				[]*cel.Type{cel.StringType, cel.StringType}, cel.ListType(cel.StringType),
				cel.BinaryBinding(func(s, sep ref.Val) ref.Val {
					return b.split(s, sep, types.Int(-1))
				})),
			cel.MemberOverload("string_split_string_int",
				[]*cel.Type{cel.StringType, cel.StringType, cel.IntType}, cel.ListType(cel.StringType),
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					return b.split(args[0], args[1], args[2])
				}))),
	}
}

// occurrences is how many times strings.Replace or strings.SplitN would
// find sep in s, with at most n (n < 0: no bound).
func occurrences(s, sep string, n int64) int64 {
	var k int64
	if sep == "" {
		k = int64(utf8.RuneCountInString(s)) + 1
	} else {
		k = int64(strings.Count(s, sep))
	}
	if n >= 0 && k > n {
		k = n
	}
	return k
}

func (b Budget) replace(sv, oldv, newv, nv ref.Val) ref.Val {
	s, old, repl, n := string(sv.(types.String)), string(oldv.(types.String)), string(newv.(types.String)), int64(nv.(types.Int))
	k := occurrences(s, old, n)
	size := int64(len(s)) + k*(int64(len(repl))-int64(len(old)))
	if size > int64(b.MaxSize) {
		return types.WrapErr(b.sizeExceeded(fmt.Sprintf("replace would build a string of %d bytes", size)))
	}
	return types.String(strings.Replace(s, old, repl, int(n)))
}

func (b Budget) split(sv, sepv, nv ref.Val) ref.Val {
	s, sep, n := string(sv.(types.String)), string(sepv.(types.String)), int64(nv.(types.Int))
	if n == 0 {
		return types.NewStringList(types.DefaultTypeAdapter, []string{})
	}
	parts := int64(1)
	if sep == "" {
		parts = int64(utf8.RuneCountInString(s))
		if n > 0 && parts > n {
			parts = n
		}
	} else {
		parts += occurrences(s, sep, max(n-1, -1))
	}
	// A list costs one unit per element plus its elements' sizes, which
	// together are at most the string's.
	if size := parts + int64(len(s)) + 1; size > int64(b.MaxSize) {
		return types.WrapErr(b.sizeExceeded(fmt.Sprintf("split would build a list of %d strings", parts)))
	}
	return types.NewStringList(types.DefaultTypeAdapter, strings.SplitN(s, sep, int(n)))
}
