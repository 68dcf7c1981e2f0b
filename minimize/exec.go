package minimize

import (
	"reflect"
	"time"
	"unsafe"

	"github.com/tact-go/tact/consent"
)

// exec is the state of one record's minimization. It lives on the stack of
// the calling function.
type exec struct {
	now   time.Time
	ps    *pkey
	allow Allower
	cats  []consent.Category
	mask  [4]uint64 // allowed categories, for the first 256
}

// setAllow evaluates the allower once per category of the plan.
func (x *exec) setAllow(a Allower, cats []consent.Category) {
	x.allow, x.cats = a, cats
	if a == nil {
		return
	}
	for i, c := range cats {
		if i >= 256 {
			break
		}
		if a.Allows(c) {
			x.mask[i>>6] |= 1 << (i & 63)
		}
	}
}

func (x *exec) allows(i int32) bool {
	if x.allow == nil || i < 0 {
		return true
	}
	if i < 256 {
		return x.mask[i>>6]&(1<<(i&63)) != 0
	}
	return x.allow.Allows(x.cats[i])
}

// anyAllowed reports whether consent allows a field of the container of
// structs n: one of its fields' categories, or a field without one. A
// container none of whose fields would be copied stays nil, so that the
// output does not show that the input had one, or how many.
func (x *exec) anyAllowed(n *node) bool {
	if n.free {
		return true
	}
	for _, c := range n.cats {
		if x.allows(c) {
			return true
		}
	}
	return false
}

// outcome returns what happened to field f of the record: the plan's
// outcome, or Dropped with noConsent when consent withdrew the field.
func (x *exec) outcome(f *fieldInfo) (o Outcome, noConsent bool) {
	if f.Outcome != Dropped && !x.allows(f.cat) {
		return Dropped, true
	}
	return f.Outcome, false
}

// report returns the report of field f of the record.
func (x *exec) report(f *fieldInfo) FieldReport {
	fr := f.FieldReport
	if _, noConsent := x.outcome(f); noConsent {
		fr.Outcome, fr.Transform, fr.Reason = Dropped, Drop(), ReasonNoConsent
	}
	return fr
}

// runStruct minimizes one struct of the plan's type from src into dst,
// which must point to zeroed memory of that type.
func (x *exec) runStruct(p *structPlan, dst, src unsafe.Pointer) error {
	if p.root.code == nStruct {
		return x.ops(p, p.root.ops, dst, src)
	}
	return x.node(p, p.root, dst, src, -1)
}

// ops is the hot loop: kept scalars are copied in place, transformed
// scalars go to leaf, containers to node.
func (x *exec) ops(p *structPlan, ops []planOp, dst, src unsafe.Pointer) error {
	for i := range ops {
		o := &ops[i]
		if x.allow != nil && o.cat >= 0 && !x.allows(o.cat) {
			continue
		}
		d, s := unsafe.Add(dst, o.off), unsafe.Add(src, o.off)
		var err error
		switch o.fast {
		case fastString:
			*(*string)(d) = *(*string)(s)
		case fastTime:
			*(*time.Time)(d) = *(*time.Time)(s)
		case fastCopy8:
			*(*uint64)(d) = *(*uint64)(s)
		case fastCopy4:
			*(*uint32)(d) = *(*uint32)(s)
		case fastCopy2:
			*(*uint16)(d) = *(*uint16)(s)
		case fastCopy1:
			*(*uint8)(d) = *(*uint8)(s)
		case fastLeaf:
			err = x.leaf(p, o.n, d, s, o.field)
		default:
			if o.field < 0 && x.allow != nil && !x.anyAllowed(o.n) {
				continue // a container of structs
			}
			err = x.node(p, o.n, d, s, o.field)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *exec) node(p *structPlan, n *node, dst, src unsafe.Pointer, field int32) error {
	switch n.code {
	case nLeaf:
		return x.leaf(p, n, dst, src, field)
	case nStruct:
		return x.ops(p, n.ops, dst, src)
	case nPtr:
		sp := *(*unsafe.Pointer)(src)
		if sp == nil {
			return nil
		}
		np := reflect.New(n.typ).UnsafePointer()
		if err := x.node(p, n.elem, np, sp, field); err != nil {
			return err
		}
		*(*unsafe.Pointer)(dst) = np
	case nSlice:
		sh := (*sliceHeader)(src)
		if sh.data == nil {
			return nil
		}
		np := reflect.MakeSlice(n.typ, sh.len, sh.len).UnsafePointer()
		for i := 0; i < sh.len; i++ {
			off := uintptr(i) * n.esize
			if err := x.node(p, n.elem, unsafe.Add(np, off), unsafe.Add(sh.data, off), field); err != nil {
				return err
			}
		}
		*(*sliceHeader)(dst) = sliceHeader{data: np, len: sh.len, cap: sh.len}
	}
	return nil
}

func (x *exec) leaf(p *structPlan, n *node, dst, src unsafe.Pointer, field int32) error {
	xf := n.x
	if xf.op == opKeep {
		switch n.kind {
		case kString:
			*(*string)(dst) = *(*string)(src)
		case kTime:
			*(*time.Time)(dst) = *(*time.Time)(src)
		default:
			switch n.size {
			case 1:
				*(*uint8)(dst) = *(*uint8)(src)
			case 2:
				*(*uint16)(dst) = *(*uint16)(src)
			case 4:
				*(*uint32)(dst) = *(*uint32)(src)
			default:
				*(*uint64)(dst) = *(*uint64)(src)
			}
		}
		return nil
	}
	var err error
	switch k := n.kind; {
	case k == kString:
		s := *(*string)(src)
		if xf.op == opPseudonymize {
			s, err = x.ps.token(s)
		} else {
			s = xf.str(s)
		}
		*(*string)(dst) = s
	case k == kTime:
		var t time.Time
		t, err = xf.time(*(*time.Time)(src), x.now)
		*(*time.Time)(dst) = t
	case k.signed():
		var v int64
		v, err = xf.int(loadInt(src, k), k)
		storeInt(dst, k, v)
	case k.unsigned():
		var v uint64
		v, err = xf.uint(loadUint(src, k), k)
		storeUint(dst, k, v)
	case k == kFloat32:
		var v float64
		v, err = xf.float(float64(*(*float32)(src)), k)
		*(*float32)(dst) = float32(v)
	case k == kFloat64:
		var v float64
		v, err = xf.float(*(*float64)(src), k)
		*(*float64)(dst) = v
	}
	if err != nil {
		f := &p.fields[field]
		return &FieldError{Field: f.Field, Category: f.Category, Transform: xf.name, Err: err}
	}
	return nil
}

func loadInt(p unsafe.Pointer, k kind) int64 {
	switch k {
	case kInt8:
		return int64(*(*int8)(p))
	case kInt16:
		return int64(*(*int16)(p))
	case kInt32:
		return int64(*(*int32)(p))
	case kInt:
		return int64(*(*int)(p))
	}
	return *(*int64)(p)
}

func storeInt(p unsafe.Pointer, k kind, v int64) {
	switch k {
	case kInt8:
		*(*int8)(p) = int8(v)
	case kInt16:
		*(*int16)(p) = int16(v)
	case kInt32:
		*(*int32)(p) = int32(v)
	case kInt:
		*(*int)(p) = int(v)
	default:
		*(*int64)(p) = v
	}
}

func loadUint(p unsafe.Pointer, k kind) uint64 {
	switch k {
	case kUint8:
		return uint64(*(*uint8)(p))
	case kUint16:
		return uint64(*(*uint16)(p))
	case kUint32:
		return uint64(*(*uint32)(p))
	case kUint:
		return uint64(*(*uint)(p))
	case kUintptr:
		return uint64(*(*uintptr)(p))
	}
	return *(*uint64)(p)
}

func storeUint(p unsafe.Pointer, k kind, v uint64) {
	switch k {
	case kUint8:
		*(*uint8)(p) = uint8(v)
	case kUint16:
		*(*uint16)(p) = uint16(v)
	case kUint32:
		*(*uint32)(p) = uint32(v)
	case kUint:
		*(*uint)(p) = uint(v)
	case kUintptr:
		*(*uintptr)(p) = uintptr(v)
	default:
		*(*uint64)(p) = v
	}
}
