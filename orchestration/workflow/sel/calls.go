package sel

import (
	"strconv"
	"strings"
	"time"
)

// classFunc is a static method of a SEL class and its CEL translation.
type classFunc struct {
	arities []int
	fn      string // CEL function; "" when translated by code
	kind    kind   // kind of the result
}

// classFuncs are the static methods SEL offers, by class and name.
var classFuncs = map[string]map[string]classFunc{
	"params": {
		"get":                     {[]int{1}, "params.get", kDyn},
		"getFromStep":             {[]int{1, 2}, "params.getFromStep", kDyn},
		"getFromInstance":         {[]int{1}, "params.getFromInstance", kDyn},
		"getFromSignal":           {[]int{1, 2}, "params.getFromSignal", kDyn},
		"getFromSignalDependency": {[]int{2}, "params.getFromSignalDependency", kDyn},
		"getFromSignalOrDefault":  {[]int{3}, "params.getFromSignalOrDefault", kDyn},
		"getFromForeach":          {[]int{3}, "params.getFromForeach", kDyn},
		"getFromSubworkflow":      {[]int{3}, "params.getFromSubworkflow", kDyn},
	},
	"Util": {
		"dateIntsBetween":            {[]int{3}, "Util.dateIntsBetween", kList},
		"intsBetween":                {[]int{3}, "Util.intsBetween", kList},
		"dateIntHourToTs":            {[]int{5}, "Util.dateIntHourToTs", kInt},
		"dateIntToTs":                {[]int{1}, "Util.dateIntToTs", kInt},
		"tsToDateInt":                {[]int{1}, "Util.tsToDateInt", kString},
		"incrementDateInt":           {[]int{2}, "Util.incrementDateInt", kString},
		"timeoutForDateIntDeadline":  {[]int{2}, "Util.timeoutForDateIntDeadline", kString},
		"timeoutForDateTimeDeadline": {[]int{2}, "", kString},
	},
	"Math": {
		"min": {[]int{2}, "math.least", kDyn},
		"max": {[]int{2}, "math.greatest", kDyn},
		"abs": {[]int{1}, "math.abs", kDyn},
		"pow": {[]int{2}, "sel.pow", kDouble},
	},
	"String": {
		"valueOf": {[]int{1}, "sel.str", kString},
		"format":  {[]int{1, 2, 3, 4, 5, 6, 7, 8}, "", kString},
		"join":    {[]int{2, 3, 4, 5, 6, 7, 8}, "", kString},
	},
	"Integer": {"parseInt": {[]int{1}, "int", kInt}, "valueOf": {[]int{1}, "int", kInt}},
	"Long":    {"parseLong": {[]int{1}, "int", kInt}, "valueOf": {[]int{1}, "int", kInt}},
	"Double":  {"parseDouble": {[]int{1}, "double", kDouble}, "valueOf": {[]int{1}, "double", kDouble}},
	"Boolean": {"parseBoolean": {[]int{1}, "", kBool}, "valueOf": {[]int{1}, "", kBool}},
	"System":  {"currentTimeMillis": {[]int{0}, "", kInt}},
	"UUID":    {"randomUUID": {[]int{0}, "", kUUID}},
	"DateTimeZone": {
		"forID": {[]int{1}, "", kZone},
	},
	"DateTimeFormat": {"forPattern": {[]int{1}, "", kFormatter}},
	"DateTime":       {"now": {[]int{0}, "", kDateTime}},
	"Days":           {"daysBetween": {[]int{2}, "", kDays}},
}

// argKinds are the kinds the arguments of a class's method may have.
func (f classFunc) argKinds(class, name string) []kind {
	switch class {
	case "Math":
		return []kind{kInt, kDouble}
	case "Integer", "Long", "Double":
		return []kind{kString, kInt, kDouble}
	case "DateTimeZone", "DateTimeFormat":
		return []kind{kString}
	case "Days":
		return []kind{kDateTime}
	}
	switch class + "." + name {
	case "String.join":
		return []kind{kString, kList}
	case "Util.timeoutForDateTimeDeadline":
		return []kind{kDateTime, kString}
	}
	// params, Util and the rest take any value and convert it as SEL.
	return []kind{kString, kInt, kDouble, kBool, kNull, kList, kMap}
}

// defaultZone is the zone of a DateTime made without one: Joda uses the
// JVM's, which is UTC on Maestro's servers.
const defaultZone = "'UTC'"

func (t *translator) values(xs []expr, sc scope) ([]val, error) {
	out := make([]val, len(xs))
	for i, x := range xs {
		v, err := t.valueExpr(x, sc)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func celArgs(vs []val) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.cel
	}
	return strings.Join(s, ", ")
}

func (t *translator) call(x *callExpr, sc scope) (val, error) {
	if x.recv == nil {
		return val{}, errAt(x.pos, "function %s is not supported", x.name)
	}
	recv, err := t.expr(x.recv, sc)
	if err != nil {
		return val{}, err
	}
	switch recv.kind {
	case kClass:
		return t.classCall(x, recv.class, sc)
	case kDateTime:
		return t.dateTimeCall(x, recv, sc)
	case kFormatter:
		return t.formatterCall(x, recv, sc)
	case kProperty:
		return t.propertyCall(x, recv)
	case kZone:
		if (x.name == "getID" || x.name == "toString") && len(x.args) == 0 {
			return val{cel: recv.cel, kind: kString, prec: recv.prec}, nil
		}
	case kUUID:
		if x.name == "toString" && len(x.args) == 0 {
			return val{cel: recv.cel, kind: kString, prec: pAtom}, nil
		}
	case kDays:
		if x.name == "getDays" && len(x.args) == 0 {
			return val{cel: recv.cel, kind: kInt, prec: pAtom}, nil
		}
	default:
		return t.valueCall(x, recv, sc)
	}
	return val{}, errAt(x.pos, "method %s.%s with %d arguments is not supported", recv.kind, x.name, len(x.args))
}

func (t *translator) classCall(x *callExpr, class string, sc scope) (val, error) {
	f, ok := classFuncs[class][x.name]
	if !ok {
		if class == "params" {
			return val{}, errAt(x.pos, "params.%s is not supported", x.name)
		}
		return val{}, errAt(x.pos, "method %s.%s is not supported", class, x.name)
	}
	arityOK := false
	for _, n := range f.arities {
		arityOK = arityOK || n == len(x.args)
	}
	if !arityOK {
		return val{}, errAt(x.pos, "%s.%s takes %v arguments, not %d", class, x.name, f.arities, len(x.args))
	}
	args, err := t.callArgs(x, sc)
	if err != nil {
		return val{}, err
	}
	if class == "params" && x.name == "getFromStep" && len(x.args) == 2 {
		if l, ok := x.args[0].(*litExpr); ok && l.kind == tString {
			t.steps[l.text] = true
		}
	}
	for i, a := range args {
		if !fits(a, f.argKinds(class, x.name)...) {
			return val{}, errAt(x.args[i].at(), "argument %d of %s.%s cannot be a %s", i+1, class, x.name, a.kind)
		}
	}
	if f.fn != "" {
		k := f.kind
		if (x.name == "min" || x.name == "max" || x.name == "abs") && args[0].kind == args[len(args)-1].kind &&
			(args[0].kind == kInt || args[0].kind == kDouble) {
			k = args[0].kind
		}
		return t.emit(val{cel: f.fn + "(" + celArgs(args) + ")", kind: k, prec: pAtom})
	}
	switch class + "." + x.name {
	case "String.format":
		if err := checkFormat(x.args[0]); err != nil {
			return val{}, err
		}
		return t.emit(val{cel: "sel.format(" + args[0].cel + ", [" + celArgs(args[1:]) + "])", kind: kString, prec: pAtom})
	case "String.join":
		if !fits(args[0], kString) {
			return val{}, errAt(x.args[0].at(), "the separator of String.join must be a String, not a %s", args[0].kind)
		}
		list := args[1]
		if len(args) > 2 || list.kind != kList && list.kind != kDyn {
			list = val{cel: "[" + celArgs(args[1:]) + "]", kind: kList, prec: pAtom}
		}
		if list.kind == kList {
			list = dynOf(list) // a literal's elements may not all be Strings
		}
		return t.emit(val{cel: list.operand(pUnary) + ".join(" + args[0].cel + ")", kind: kString, prec: pAtom})
	case "Boolean.parseBoolean", "Boolean.valueOf":
		return t.emit(val{cel: "sel.str(" + args[0].cel + ").lowerAscii() == 'true'", kind: kBool, prec: pRel})
	case "System.currentTimeMillis":
		return val{cel: "joda.millis(sel.now())", kind: kInt, prec: pAtom}, nil
	case "UUID.randomUUID":
		return val{cel: "sel.randomUUID()", kind: kUUID, prec: pAtom}, nil
	case "DateTime.now":
		return val{cel: "sel.now()", kind: kDateTime, prec: pAtom, zone: defaultZone}, nil
	case "DateTimeZone.forID":
		if err := checkZone(x.args[0]); err != nil {
			return val{}, err
		}
		return val{cel: args[0].cel, kind: kZone, prec: args[0].prec}, nil
	case "DateTimeFormat.forPattern":
		if err := checkPattern(x.args[0]); err != nil {
			return val{}, err
		}
		return val{kind: kFormatter, pattern: args[0].cel}, nil
	case "Util.timeoutForDateTimeDeadline":
		if args[0].kind != kDateTime {
			return val{}, errAt(x.args[0].at(), "Util.timeoutForDateTimeDeadline takes a DateTime, not a %s", args[0].kind)
		}
		return t.emit(val{cel: "Util.timeoutForDateTimeDeadline(" + args[0].cel + ", " + args[1].cel + ")", kind: kString, prec: pAtom})
	case "Days.daysBetween":
		if args[0].kind != kDateTime || args[1].kind != kDateTime {
			return val{}, errAt(x.pos, "Days.daysBetween takes two DateTime values")
		}
		return t.emit(val{cel: "joda.daysBetween(" + args[0].cel + ", " + args[1].cel + ", " + args[0].zone + ")", kind: kDays, prec: pAtom})
	}
	return val{}, errAt(x.pos, "method %s.%s is not supported", class, x.name)
}

// callArgs translates a call's arguments: values, or the Joda objects
// the Joda methods take.
func (t *translator) callArgs(x *callExpr, sc scope) ([]val, error) {
	out := make([]val, len(x.args))
	for i, a := range x.args {
		v, err := t.expr(a, sc)
		if err != nil {
			return nil, err
		}
		if !v.kind.isValue() && v.kind != kDateTime && v.kind != kZone {
			return nil, errAt(a.at(), "a %s cannot be an argument", v.kind)
		}
		out[i] = v
	}
	return out, nil
}

// checkZone refuses a literal zone id that does not exist.
func checkZone(x expr) error {
	if l, ok := x.(*litExpr); ok && l.kind == tString {
		if _, err := loadZone(l.text); err != nil {
			return errAt(l.pos, "%v", err)
		}
	}
	return nil
}

// checkPattern refuses a literal Joda pattern this package cannot format.
func checkPattern(x expr) error {
	if l, ok := x.(*litExpr); ok && l.kind == tString {
		if _, err := compilePattern(l.text); err != nil {
			return errAt(l.pos, "%v", err)
		}
	}
	return nil
}

// checkFormat refuses a literal String.format format this package
// cannot print.
func checkFormat(x expr) error {
	if l, ok := x.(*litExpr); ok && l.kind == tString {
		if err := checkJavaFormat(l.text); err != nil {
			return errAt(l.pos, "%v", err)
		}
	}
	return nil
}

// jodaUnits are the units of DateTime's plusX and minusX.
var jodaUnits = map[string]string{
	"Years": "years", "Months": "months", "Weeks": "weeks", "Days": "days",
	"Hours": "hours", "Minutes": "minutes", "Seconds": "seconds", "Millis": "millis",
}

// jodaFields are the fields of a DateTime that getX(), xOf…() and withX()
// read and set.
var jodaFields = map[string]bool{
	"year": true, "weekyear": true, "weekOfWeekyear": true, "monthOfYear": true, "dayOfYear": true,
	"dayOfMonth": true, "dayOfWeek": true, "hourOfDay": true, "minuteOfDay": true, "minuteOfHour": true,
	"secondOfDay": true, "secondOfMinute": true, "millisOfDay": true, "millisOfSecond": true,
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func (t *translator) dateTimeCall(x *callExpr, dt val, sc scope) (val, error) {
	args, err := t.callArgs(x, sc)
	if err != nil {
		return val{}, err
	}
	n := len(args)
	name := x.name
	same := func(cel string) (val, error) {
		return t.emit(val{cel: cel, kind: kDateTime, prec: pAtom, zone: dt.zone})
	}
	switch {
	case (name == "withZone" || name == "toDateTime") && n == 1 && args[0].kind == kZone:
		return val{cel: dt.cel, kind: kDateTime, prec: dt.prec, zone: args[0].cel}, nil
	case (strings.HasPrefix(name, "plus") || strings.HasPrefix(name, "minus")) && n == 1:
		op := "plus"
		if strings.HasPrefix(name, "minus") {
			op = "minus"
		}
		unit, ok := jodaUnits[strings.TrimPrefix(name, op)]
		if !ok || !args[0].kind.isValue() {
			break
		}
		return same("joda." + op + "(" + dt.cel + ", " + dt.zone + ", '" + unit + "', " + args[0].cel + ")")
	case name == "toString" && n == 0:
		return t.emit(val{cel: "joda.iso(" + dt.cel + ", " + dt.zone + ")", kind: kString, prec: pAtom})
	case name == "toString" && n == 1 && args[0].kind.isValue():
		if err := checkPattern(x.args[0]); err != nil {
			return val{}, err
		}
		return t.emit(val{cel: "joda.format(" + dt.cel + ", " + dt.zone + ", " + args[0].cel + ")", kind: kString, prec: pAtom})
	case name == "getMillis" && n == 0:
		return t.emit(val{cel: "joda.millis(" + dt.cel + ")", kind: kInt, prec: pAtom})
	case (name == "isAfter" || name == "isBefore" || name == "isEqual") && n == 1 && args[0].kind == kDateTime:
		op := map[string]string{"isAfter": " > ", "isBefore": " < ", "isEqual": " == "}[name]
		return t.emit(val{cel: dt.operand(pRel) + op + args[0].operand(pRel), kind: kBool, prec: pRel})
	case name == "withTimeAtStartOfDay" && n == 0:
		return same("joda.startOfDay(" + dt.cel + ", " + dt.zone + ")")
	case strings.HasPrefix(name, "get") && n == 0 && jodaFields[lowerFirst(name[3:])]:
		return t.emit(val{cel: "joda.get(" + dt.cel + ", " + dt.zone + ", '" + lowerFirst(name[3:]) + "')", kind: kInt, prec: pAtom})
	case strings.HasPrefix(name, "with") && n == 1 && jodaFields[lowerFirst(name[4:])] && args[0].kind.isValue():
		return same("joda.with(" + dt.cel + ", " + dt.zone + ", '" + lowerFirst(name[4:]) + "', " + args[0].cel + ")")
	case jodaFields[name] && n == 0:
		return val{cel: dt.cel, kind: kProperty, prec: dt.prec, zone: dt.zone, field: name}, nil
	}
	return val{}, errAt(x.pos, "method DateTime.%s with %d arguments is not supported", name, n)
}

func (t *translator) propertyCall(x *callExpr, p val) (val, error) {
	if len(x.args) != 0 {
		return val{}, errAt(x.pos, "method DateTime.Property.%s with %d arguments is not supported", x.name, len(x.args))
	}
	field := "'" + p.field + "'"
	switch x.name {
	case "getAsText":
		return t.emit(val{cel: "joda.text(" + p.cel + ", " + p.zone + ", " + field + ")", kind: kString, prec: pAtom})
	case "getAsShortText":
		return t.emit(val{cel: "joda.shortText(" + p.cel + ", " + p.zone + ", " + field + ")", kind: kString, prec: pAtom})
	case "get":
		return t.emit(val{cel: "joda.get(" + p.cel + ", " + p.zone + ", " + field + ")", kind: kInt, prec: pAtom})
	case "getAsString":
		return t.emit(val{cel: "string(joda.get(" + p.cel + ", " + p.zone + ", " + field + "))", kind: kString, prec: pAtom})
	}
	return val{}, errAt(x.pos, "method DateTime.Property.%s is not supported", x.name)
}

func (t *translator) formatterCall(x *callExpr, f val, sc scope) (val, error) {
	args, err := t.callArgs(x, sc)
	if err != nil {
		return val{}, err
	}
	zone := f.zone
	if zone == "" {
		zone = defaultZone
	}
	n := len(args)
	switch {
	case x.name == "withZone" && n == 1 && args[0].kind == kZone:
		return val{kind: kFormatter, pattern: f.pattern, zone: args[0].cel}, nil
	case x.name == "withZoneUTC" && n == 0:
		return val{kind: kFormatter, pattern: f.pattern, zone: defaultZone}, nil
	case x.name == "parseDateTime" && n == 1 && args[0].kind.isValue():
		return t.emit(val{cel: "joda.parse(" + args[0].cel + ", " + f.pattern + ", " + zone + ")", kind: kDateTime, prec: pAtom, zone: zone})
	case x.name == "parseMillis" && n == 1 && args[0].kind.isValue():
		return t.emit(val{cel: "joda.millis(joda.parse(" + args[0].cel + ", " + f.pattern + ", " + zone + "))", kind: kInt, prec: pAtom})
	case x.name == "print" && n == 1 && args[0].kind == kDateTime:
		if f.zone == "" {
			zone = args[0].zone // a formatter without a zone prints in the DateTime's
		}
		return t.emit(val{cel: "joda.format(" + args[0].cel + ", " + zone + ", " + f.pattern + ")", kind: kString, prec: pAtom})
	case x.name == "print" && n == 1 && args[0].kind.isValue():
		return t.emit(val{cel: "joda.format(joda.fromMillis(" + args[0].cel + "), " + zone + ", " + f.pattern + ")", kind: kString, prec: pAtom})
	}
	return val{}, errAt(x.pos, "method DateTimeFormatter.%s with %d arguments is not supported", x.name, n)
}

// jodaConstants are the fields of DateTimeConstants.
var jodaConstants = map[string]int{
	"MONDAY": 1, "TUESDAY": 2, "WEDNESDAY": 3, "THURSDAY": 4, "FRIDAY": 5, "SATURDAY": 6, "SUNDAY": 7,
	"JANUARY": 1, "FEBRUARY": 2, "MARCH": 3, "APRIL": 4, "MAY": 5, "JUNE": 6, "JULY": 7,
	"AUGUST": 8, "SEPTEMBER": 9, "OCTOBER": 10, "NOVEMBER": 11, "DECEMBER": 12,
	"MILLIS_PER_SECOND": 1000, "MILLIS_PER_MINUTE": 60_000, "MILLIS_PER_HOUR": 3_600_000,
	"MILLIS_PER_DAY": 86_400_000, "SECONDS_PER_MINUTE": 60, "SECONDS_PER_HOUR": 3600,
	"SECONDS_PER_DAY": 86_400, "MINUTES_PER_HOUR": 60, "MINUTES_PER_DAY": 1440, "HOURS_PER_DAY": 24,
	"DAYS_PER_WEEK": 7,
}

func (t *translator) field(x *fieldExpr, sc scope) (val, error) {
	recv, err := t.expr(x.x, sc)
	if err != nil {
		return val{}, err
	}
	switch {
	case recv.kind == kClass && recv.class == "DateTimeZone" && x.name == "UTC":
		return val{cel: defaultZone, kind: kZone, prec: pAtom}, nil
	case recv.kind == kClass && recv.class == "DateTimeConstants":
		if c, ok := jodaConstants[x.name]; ok {
			return val{cel: itoa(c), kind: kInt, prec: pAtom}, nil
		}
	case recv.kind.isValue() && x.name == "length":
		return t.emit(val{cel: "size(" + recv.cel + ")", kind: kInt, prec: pAtom})
	}
	what := recv.kind.String()
	if recv.kind == kClass {
		what = recv.class
	}
	return val{}, errAt(x.pos, "field %s.%s is not supported", what, x.name)
}

func (t *translator) newObject(x *newExpr, sc scope) (val, error) {
	args, err := t.values(x.args, sc)
	if err != nil {
		return val{}, err
	}
	if x.array {
		switch x.class {
		case "String", "long", "Long", "int", "Integer", "double", "Double", "float", "Float", "boolean", "Boolean", "Object":
		default:
			return val{}, errAt(x.pos, "arrays of %s are not supported", x.class)
		}
		return t.emit(val{cel: "[" + celArgs(args) + "]", kind: kList, prec: pAtom})
	}
	switch {
	case x.class == "DateTime" && len(args) == 0:
		return val{cel: "sel.now()", kind: kDateTime, prec: pAtom, zone: defaultZone}, nil
	case x.class == "DateTime" && len(args) == 1:
		return t.emit(val{cel: "joda.fromMillis(" + args[0].cel + ")", kind: kDateTime, prec: pAtom, zone: defaultZone})
	case x.class == "String" && len(args) <= 1:
		if len(args) == 0 {
			return val{cel: "''", kind: kString, prec: pAtom}, nil
		}
		return t.emit(val{cel: "sel.str(" + args[0].cel + ")", kind: kString, prec: pAtom})
	case x.class == "Map" || x.class == "HashMap":
		return val{}, errAt(x.pos, "class %s is not supported (CEL values cannot be changed after they are made)", x.class)
	}
	return val{}, errAt(x.pos, "class %s is not supported", x.class)
}

func itoa(n int) string { return strconv.Itoa(n) }

// loadZone resolves a Joda zone id.
func loadZone(id string) (*time.Location, error) {
	if id == "UTC" || id == "Z" {
		return time.UTC, nil
	}
	if id == "" || strings.HasPrefix(id, "Local") {
		return nil, errUnknownZone(id)
	}
	loc, err := time.LoadLocation(id)
	if err != nil {
		return nil, errUnknownZone(id)
	}
	return loc, nil
}
