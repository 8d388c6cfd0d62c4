package celbudget

import "reflect"

func reflectTypeOf(v any) reflect.Type { return reflect.TypeOf(v) }

func equalAny(a, b any) bool { return reflect.DeepEqual(a, b) }
