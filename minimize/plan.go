package minimize

import (
	"reflect"
	"slices"
	"unsafe"

	"github.com/tact-go/tact/consent"
)

// A struct plan is a tree of nodes compiled once per record type. Leaf
// fields (scalars and time.Time, possibly behind pointers or in slices) that
// survive the policy become ops with their offset in the struct; dropped
// fields produce no op at all, so the output keeps their zero value. Nested
// structs are flattened into their parent's ops; structs behind pointers or
// in slices get their own node.

type nodeCode uint8

const (
	nLeaf   nodeCode = iota // a scalar or time.Time
	nPtr                    // pointer to elem
	nSlice                  // slice of elem
	nStruct                 // struct with ops
)

type node struct {
	code  nodeCode
	kind  kind         // nLeaf
	size  uintptr      // nLeaf: size of the value
	x     *xform       // nLeaf
	typ   reflect.Type // nPtr: the element type; nSlice: the slice type
	elem  *node        // nPtr, nSlice
	esize uintptr      // nSlice: element size
	ops   []planOp     // nStruct

	// Nodes holding structs (nStruct, and nPtr and nSlice around one)
	// know what their fields need, so that a container whose every field
	// consent withdraws is left nil rather than copied empty: cats are the
	// categories (indexes into plan.cats) of the fields below, and free is
	// true when a field below has no category, which consent never drops.
	cats []int32
	free bool
}

type planOp struct {
	off   uintptr
	cat   int32 // index into plan.cats, -1 for none
	field int32 // index into plan.fields, -1 for a container of structs
	fast  fastCode
	n     *node
}

// fastCode lets the op loop copy kept scalars without a call.
type fastCode uint8

const (
	fastNone fastCode = iota
	fastCopy1
	fastCopy2
	fastCopy4
	fastCopy8
	fastString
	fastTime
	fastLeaf // a transformed scalar: call leaf directly
)

func fastFor(n *node) fastCode {
	if n.code != nLeaf {
		return fastNone
	}
	if n.x.op != opKeep {
		return fastLeaf
	}
	switch {
	case n.kind == kString:
		return fastString
	case n.kind == kTime:
		return fastTime
	case n.size == 1:
		return fastCopy1
	case n.size == 2:
		return fastCopy2
	case n.size == 4:
		return fastCopy4
	}
	return fastCopy8
}

// fieldInfo is the static report of one leaf field.
type fieldInfo struct {
	FieldReport
	cat int32 // index into plan.cats, -1 for none
}

type structPlan struct {
	typ      reflect.Type
	root     *node
	fields   []fieldInfo
	cats     []consent.Category
	needsNow bool
	static   FieldTally // outcome counts of the fields of a record, before consent
}

type planEntry struct {
	typ reflect.Type
	p   *structPlan
	err error
}

var keepX = compileTransform(Keep())

// builder compiles plans. With keepAll (retention trims), every supported
// field is kept; otherwise the policy decides.
type builder struct {
	pol      *Policy
	keepAll  bool
	plan     *structPlan
	cats     catSet
	visiting map[reflect.Type]bool
}

func buildPlan(t reflect.Type, pol *Policy, keepAll bool) (*structPlan, error) {
	b := &builder{
		pol:      pol,
		keepAll:  keepAll,
		plan:     &structPlan{typ: t},
		visiting: make(map[reflect.Type]bool),
	}
	var root *node
	var err error
	switch {
	case t.Kind() == reflect.Struct && t != timeType:
		root, err = b.structNode(t, "")
		if root == nil && err == nil {
			root = &node{code: nStruct, typ: t}
		}
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && t.Elem() != timeType:
		var sn *node
		sn, err = b.structNode(t.Elem(), "")
		if sn == nil {
			sn = &node{code: nStruct, typ: t.Elem()}
		}
		root = &node{code: nPtr, typ: t.Elem(), elem: sn}
	default:
		return nil, &FieldError{Field: t.String(), Err: ErrUnsupported, Why: "a record is a struct or a pointer to a struct"}
	}
	if err != nil {
		return nil, err
	}
	b.plan.root = root
	b.plan.cats = b.cats.list
	return b.plan, nil
}

// catSet numbers the categories of a plan's fields in the order first met;
// exec keeps what consent allows as a bit mask over these numbers.
type catSet struct {
	list []consent.Category
	idx  map[consent.Category]int32
}

// index returns the number of c, -1 for no category.
func (s *catSet) index(c consent.Category) int32 {
	if c == "" {
		return -1
	}
	i, ok := s.idx[c]
	if !ok {
		if s.idx == nil {
			s.idx = make(map[consent.Category]int32)
		}
		i = int32(len(s.list))
		s.idx[c] = i
		s.list = append(s.list, c)
	}
	return i
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// structNode compiles a struct type; nil when no field of it survives.
func (b *builder) structNode(t reflect.Type, path string) (*node, error) {
	if b.visiting[t] {
		return nil, &FieldError{Field: path, Err: ErrUnsupported, Why: "recursive type " + t.String()}
	}
	b.visiting[t] = true
	defer delete(b.visiting, t)
	n := &node{code: nStruct, typ: t}
	if err := b.fields(t, 0, path, &n.ops); err != nil {
		return nil, err
	}
	if len(n.ops) == 0 {
		return nil, nil
	}
	for _, o := range n.ops {
		switch {
		case o.field < 0: // a container of structs
			n.free = n.free || o.n.free
			for _, c := range o.n.cats {
				if !slices.Contains(n.cats, c) {
					n.cats = append(n.cats, c)
				}
			}
		case o.cat < 0:
			n.free = true
		case !slices.Contains(n.cats, o.cat):
			n.cats = append(n.cats, o.cat)
		}
	}
	return n, nil
}

// peel strips pointer and slice layers.
func peel(t reflect.Type) reflect.Type {
	for t != timeType && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice) {
		t = t.Elem()
	}
	return t
}

func (b *builder) fields(t reflect.Type, base uintptr, prefix string, ops *[]planOp) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		path := join(prefix, f.Name)
		tag, tagged := f.Tag.Lookup("tact")
		var cat consent.Category
		if tagged {
			c, skip, why := parseTag(tag)
			if why != "" {
				return &FieldError{Field: path, Err: ErrTag, Why: why}
			}
			if skip {
				continue
			}
			cat = c
		}
		if !f.IsExported() {
			if tagged {
				return &FieldError{Field: path, Err: ErrTag, Why: "an unexported field cannot be tagged"}
			}
			if !f.Anonymous || f.Type.Kind() != reflect.Struct {
				continue
			}
		}
		ft := f.Type
		inner := peel(ft)
		off := base + f.Offset
		switch {
		case ft.Kind() == reflect.Struct && ft != timeType:
			if tagged {
				return &FieldError{Field: path, Err: ErrTag, Why: "tag the fields of a struct, not the struct"}
			}
			if err := b.fields(ft, off, path, ops); err != nil {
				return err
			}
		case inner.Kind() == reflect.Struct && inner != timeType:
			if tagged {
				return &FieldError{Field: path, Err: ErrTag, Why: "tag the fields of a struct, not the struct"}
			}
			n, err := b.container(ft, path)
			if err != nil {
				return err
			}
			if n != nil {
				*ops = append(*ops, planOp{off: off, cat: -1, field: -1, n: n})
			}
		default:
			if err := b.leafField(ft, off, path, cat, tagged, ops); err != nil {
				return err
			}
		}
	}
	return nil
}

// container compiles a pointer or slice type whose innermost element is a
// struct; nil when nothing of it survives.
func (b *builder) container(t reflect.Type, path string) (*node, error) {
	switch {
	case t.Kind() == reflect.Struct:
		return b.structNode(t, path)
	case t.Kind() == reflect.Pointer:
		e, err := b.container(t.Elem(), path)
		if e == nil || err != nil {
			return nil, err
		}
		return &node{code: nPtr, typ: t.Elem(), elem: e, cats: e.cats, free: e.free}, nil
	default: // slice
		e, err := b.container(t.Elem(), path)
		if e == nil || err != nil {
			return nil, err
		}
		return &node{code: nSlice, typ: t, elem: e, esize: t.Elem().Size(), cats: e.cats, free: e.free}, nil
	}
}

// leafField compiles a field whose innermost element is not a struct.
func (b *builder) leafField(t reflect.Type, off uintptr, path string, cat consent.Category, tagged bool, ops *[]planOp) error {
	k := kindOf(peel(t))
	fi := fieldInfo{FieldReport: FieldReport{Field: path, Category: cat, Transform: Drop()}, cat: -1}
	x := keepX
	if b.keepAll {
		fi.Reason = ReasonRule
		fi.Rule = Rule{Category: cat, Transform: Keep()}
		if k == kInvalid {
			if tagged {
				return &FieldError{Field: path, Category: cat, Err: ErrUnsupported, Why: "type " + t.String()}
			}
			return nil // dropped silently from retention trims: cannot be copied
		}
	} else {
		ri := b.pol.decide(path, cat)
		if ri < 0 {
			fi.Reason = ReasonNoRule
			if k == kInvalid && tagged {
				return &FieldError{Field: path, Category: cat, Err: ErrUnsupported, Why: "type " + t.String()}
			}
			b.plan.add(fi)
			return nil
		}
		fi.Reason, fi.Rule, x = ReasonRule, b.pol.rules[ri], b.pol.xforms[ri]
		if k == kInvalid && (tagged || x.op != opDrop) {
			return &FieldError{Field: path, Category: cat, Transform: x.name, Err: ErrUnsupported, Why: "type " + t.String()}
		}
		if x.op == opDrop {
			b.plan.add(fi)
			return nil
		}
		if why := x.accepts(k); why != "" {
			return &FieldError{Field: path, Category: cat, Transform: x.name, Err: ErrTypeMismatch, Why: why + ", have " + t.String()}
		}
	}
	fi.Transform = x.Transform
	fi.Outcome = x.outcome()
	fi.cat = b.cats.index(cat)
	b.plan.needsNow = b.plan.needsNow || x.op == opAgeBand
	ln := leafNode(t, k, x)
	*ops = append(*ops, planOp{off: off, cat: fi.cat, field: int32(len(b.plan.fields)), fast: fastFor(ln), n: ln})
	b.plan.add(fi)
	return nil
}

func (p *structPlan) add(fi fieldInfo) {
	p.fields = append(p.fields, fi)
	p.static.add(fi.Outcome, false)
}

func leafNode(t reflect.Type, k kind, x *xform) *node {
	switch {
	case t == timeType || (t.Kind() != reflect.Pointer && t.Kind() != reflect.Slice):
		return &node{code: nLeaf, kind: k, size: t.Size(), x: x}
	case t.Kind() == reflect.Pointer:
		return &node{code: nPtr, typ: t.Elem(), elem: leafNode(t.Elem(), k, x)}
	default:
		return &node{code: nSlice, typ: t, elem: leafNode(t.Elem(), k, x), esize: t.Elem().Size()}
	}
}

// sliceHeader is the layout of a slice value (as reflect.SliceHeader, but
// with the data pointer typed so that the collector sees it), checked by
// TestSliceHeaderLayout. The engine reads a slice field through it and
// writes a new one with a typed store, so the write barrier is emitted.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}
