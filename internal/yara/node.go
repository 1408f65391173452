package yara

import "regexp"

// vtype is the static type of an expression, checked at compile time as
// libyara's parser does.
type vtype uint8

const (
	tyBool vtype = iota
	tyInt
	tyFloat
	tyStr
	tyRegex
	tyStruct
	tyArray
	tyDict
	tyFunc
	// tyAny stands in for a value the engine cannot compute (an unsupported
	// feature); the rule using it is rejected or skipped.
	tyAny
)

func (t vtype) String() string {
	switch t {
	case tyBool:
		return "boolean"
	case tyInt:
		return "integer"
	case tyFloat:
		return "float"
	case tyStr:
		return "string"
	case tyRegex:
		return "regexp"
	case tyStruct:
		return "structure"
	case tyArray:
		return "array"
	case tyDict:
		return "dictionary"
	case tyFunc:
		return "function"
	}
	return "unknown"
}

// value is the result of evaluating a node. ok is false for libyara's
// "undefined". Booleans are held in i as 0 or 1; structures, arrays and
// dictionaries of modules in o.
type value struct {
	i  int64
	f  float64
	s  string
	o  any
	ok bool
}

var undef = value{}

func intVal(i int64) value { return value{i: i, ok: true} }
func boolVal(b bool) value {
	if b {
		return value{i: 1, ok: true}
	}
	return value{ok: true}
}

type op uint8

const (
	opConst op = iota // literal of any scalar type in val
	opFilesize
	opEntrypoint
	opReadInt // integer function: width/signedness/endianness in i
	opStrFound
	opStrAt
	opStrIn
	opStrCount
	opStrCountIn
	opStrOffset
	opStrLength
	opRule
	opExternal
	opVar
	opModule
	opField
	opIndex
	opLookup
	opCall
	opNot
	opDefined
	opAnd
	opOr
	opNeg
	opBitNot
	opAdd
	opSub
	opMul
	opDiv
	opMod
	opShl
	opShr
	opBitAnd
	opBitOr
	opBitXor
	opLT
	opLE
	opGT
	opGE
	opEQ
	opNE
	opContains
	opIContains
	opStartsWith
	opIStartsWith
	opEndsWith
	opIEndsWith
	opIEquals
	opMatches
	opToBool // boolean context of an integer, float or string
	opOf
	opOfPercent
	opOfIn
	opForIn
	opForOf
	opUnsupported
)

// Quantifier kinds of of/for expressions.
const (
	qExpr = iota
	qAll
	qAny
	qNone
)

// node is one compiled condition expression.
type node struct {
	op  op
	t   vtype
	pos Pos
	// float marks arithmetic and comparisons done in floating point.
	float bool

	a, b, c *node
	args    []*node
	val     value
	re      *regexp.Regexp

	// str is a pattern index into Rules.patterns, or -1 for the anonymous
	// string of the innermost for…of loop (looked up through slot).
	str int
	// strs are the patterns of a string set; rules the rule indexes of a
	// rule set.
	strs  []int
	rules []int
	slot  int // loop variable slot
	quant int // qExpr, qAll, ...

	// module data access.
	obj *objType
	fn  *function
	// iterator of for…in: range (a..b), enumeration (args) or object (c).
	iterKind int
	nvars    int
}

// Iterator kinds of for…in.
const (
	iterRange = iota
	iterEnum
	iterArray
	iterDict
)

// objType describes one identifier of a module: its type and how to read it
// from its parent's runtime value (any Go value the module chooses).
type objType struct {
	name   string
	kind   vtype
	fields map[string]*objType // tyStruct
	elem   *objType            // tyArray, tyDict
	// get reads this field from the parent structure's value.
	get func(parent any) (value, bool)
	// Arrays and dictionaries.
	length func(v any) int
	index  func(v any, i int64) (value, bool)
	lookup func(v any, key string) (value, bool)
	each   func(v any, fn func(key string, v value) bool)
	funcs  []*function // tyFunc overloads
}

// function is one overload of a module function. args lists argument types
// in libyara's format letters: i integer, f float, s string, r regexp.
type function struct {
	args string
	ret  vtype
	call func(sc *scanCtx, parent any, args []value) value
}
