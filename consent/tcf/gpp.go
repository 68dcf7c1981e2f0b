package tcf

import (
	"strconv"
	"strings"

	gpp "github.com/prebid/go-gpp"
	"github.com/prebid/go-gpp/constants"
	"github.com/prebid/go-gpp/sections"
	"github.com/prebid/go-gpp/sections/uspca"
	"github.com/prebid/go-gpp/sections/uspco"
	"github.com/prebid/go-gpp/sections/uspct"
	"github.com/prebid/go-gpp/sections/uspnat"
	"github.com/prebid/go-gpp/sections/usput"
	"github.com/prebid/go-gpp/sections/uspva"
	"github.com/prebid/go-gpp/util"
)

// GPP section ids this package reads.
const (
	SectionTCFEU = 2  // tcfeuv2: an IAB TCF v2 TC string
	SectionUSNat = 7  // usnat: US national privacy
	SectionUSCA  = 8  // usca: California
	SectionUSVA  = 9  // usva: Virginia
	SectionUSCO  = 10 // usco: Colorado
	SectionUSUT  = 11 // usut: Utah
	SectionUSCT  = 12 // usct: Connecticut
)

// sectionNames are the GPP client-side API prefixes of the sections this
// package names (GPP section registry).
var sectionNames = map[int]string{
	SectionTCFEU: "tcfeuv2", 5: "tcfcav1", 6: "uspv1",
	SectionUSNat: "usnat", SectionUSCA: "usca", SectionUSVA: "usva",
	SectionUSCO: "usco", SectionUSUT: "usut", SectionUSCT: "usct",
}

// SectionName returns the GPP API prefix of a section id ("usnat"), or
// "section N" for one this package does not name.
func SectionName(id int) string {
	if n, ok := sectionNames[id]; ok {
		return n
	}
	return "section " + strconv.Itoa(id)
}

// GPP is a decoded IAB Global Privacy Platform string: the sections this
// package reads, and those it skipped. It is read-only after [ParseGPP]
// returns it, and safe for concurrent use.
type GPP struct {
	// Version is the GPP header's version: always 1.
	Version int
	// Sections lists the section ids of the string, in order.
	Sections []int
	// TCF is the tcfeuv2 section (id 2), or nil if the string has none or it
	// was skipped.
	TCF *TCString
	// US lists the US sections read (ids 7 to 12), in order.
	US []USSection
	// Skipped lists the sections not read, each a [*ParseError] unwrapping
	// to [ErrUnsupported]: sections this package does not decode (uspv1,
	// tcfcav1, state sections other than CA, VA, CO, UT and CT), versions of
	// a section other than 1, a tcfeuv2 section that [Parse] does not
	// support. A host that must honour every opt-out should check it.
	Skipped []*ParseError
	// Digest is "sha256:" and the hex SHA-256 of the string as given.
	Digest string
}

// OptOut is the value of a US opt-out field.
type OptOut uint8

// Opt-out values, as the GPP US sections encode them.
const (
	OptOutNotApplicable OptOut = 0 // the field does not apply
	OptedOut            OptOut = 1 // the person opted out
	DidNotOptOut        OptOut = 2 // the person did not opt out
)

var optOutNames = [...]string{"not_applicable", "opted_out", "did_not_opt_out"}

// String returns "not_applicable", "opted_out" or "did_not_opt_out".
func (o OptOut) String() string {
	if int(o) < len(optOutNames) {
		return optOutNames[o]
	}
	return "invalid"
}

// USSection is one US section of a GPP string, reduced to the choices this
// package maps: the opt-outs of sale, sharing and targeted advertising, and
// the Global Privacy Control flag. Fields a state's section does not have
// are [OptOutNotApplicable] (California has no targeted-advertising field,
// since its "sharing" is cross-context behavioural advertising; Virginia,
// Colorado, Utah and Connecticut have no sharing field).
type USSection struct {
	ID      int    // the GPP section id, 7 to 12
	Name    string // "usnat", "usca", ...
	Version int    // the section's version: 1
	// SaleOptOut, SharingOptOut and TargetedAdvertisingOptOut are the
	// person's opt-outs.
	SaleOptOut, SharingOptOut, TargetedAdvertisingOptOut OptOut
	// GPC is true when the section's GPC subsection says the person's
	// browser sent a Global Privacy Control signal (usnat, usca, usco and
	// usct have one).
	GPC bool
}

// GPC reports whether any US section of the string carries the Global
// Privacy Control signal; pass it on as [consent.Signals].GPC.
func (g *GPP) GPC() bool {
	if g == nil {
		return false
	}
	for _, s := range g.US {
		if s.GPC {
			return true
		}
	}
	return false
}

// Only returns a copy of g restricted to the given section ids: the
// applicable sections (gpp_sid) the string came with. Ids the string does
// not have are ignored. Skipped sections outside ids are dropped too. Only
// of nil is nil.
func (g *GPP) Only(ids ...int) *GPP {
	if g == nil {
		return nil
	}
	keep := func(id int) bool {
		for _, k := range ids {
			if k == id {
				return true
			}
		}
		return false
	}
	out := &GPP{Version: g.Version, Digest: g.Digest}
	for _, id := range g.Sections {
		if keep(id) {
			out.Sections = append(out.Sections, id)
		}
	}
	if keep(SectionTCFEU) {
		out.TCF = g.TCF
	}
	for _, s := range g.US {
		if keep(s.ID) {
			out.US = append(out.US, s)
		}
	}
	for _, e := range g.Skipped {
		if keep(e.Section) {
			out.Skipped = append(out.Skipped, e)
		}
	}
	return out
}

// Limits on the GPP header, well above any real string, that keep the
// header decoder's work bounded.
const (
	maxSectionID = 63 // the registry holds about two dozen ids
	maxFibBits   = 16 // a Fibonacci code word this long encodes up to 2583
	maxHeaderLen = 256
)

// ParseGPP decodes a GPP string: a header and its sections, joined by "~".
// It reads the tcfeuv2 section with [Parse] and the US sections usnat, usca,
// usva, usco, usut and usct (version 1) with github.com/prebid/go-gpp, and
// lists the sections it does not read in Skipped. It never panics. Errors
// are [*ParseError]s that unwrap to [ErrMalformed] (a bad header, section
// ids that do not match the sections, a section that cannot be decoded, a
// string longer than [MaxLen]) or [ErrUnsupported] (a GPP version other
// than 1).
func ParseGPP(s string) (*GPP, error) {
	return safely("gpp", func() (*GPP, error) { return parseGPP(s) })
}

func parseGPP(s string) (*GPP, error) {
	if err := checkChars("gpp", s, "~"); err != nil {
		return nil, err
	}
	parts := strings.Split(s, "~")
	ids, err := checkHeader(parts[0], len(parts)-1)
	if err != nil {
		return nil, err
	}
	// The header is sound: go-gpp's own header decoder, which neither bounds
	// its loops nor its section ids, is now safe to run.
	c, errs := gpp.Parse(s)
	if len(errs) > 0 {
		return nil, malformed("gpp", "cannot decode a section", errs[0])
	}
	if len(c.Sections) != len(ids) {
		return nil, malformed("gpp header", "section ids disagree with the sections", nil)
	}
	g := &GPP{Version: c.Version, Sections: ids, Digest: digest(s)}
	for i, sec := range c.Sections {
		id := ids[i]
		if int(sec.GetID()) != id {
			return nil, malformed("gpp header", "section ids disagree with the sections", nil)
		}
		name := SectionName(id)
		switch v := sec.(type) {
		case gpp.GenericSection:
			if id != SectionTCFEU {
				g.Skipped = append(g.Skipped, inSection(id, unsupported(name, "section not read by this package")))
				continue
			}
			t, err := parse(parts[i+1])
			if err != nil {
				if pe, ok := err.(*ParseError); ok && pe.Kind == ErrUnsupported {
					pe.Part = name + " " + pe.Part
					g.Skipped = append(g.Skipped, inSection(id, pe))
					continue
				}
				return nil, inSection(id, malformed(name, "cannot decode", err))
			}
			g.TCF = t
		default:
			us, perr := usSection(id, v)
			if perr != nil {
				return nil, inSection(id, perr)
			}
			if us.Version != 1 {
				g.Skipped = append(g.Skipped, inSection(id, unsupported(name, "version "+strconv.Itoa(us.Version)+"; only version 1 is read")))
				continue
			}
			g.US = append(g.US, us)
		}
	}
	return g, nil
}

// inSection records the GPP section id an error is about.
func inSection(id int, e *ParseError) *ParseError {
	e.Section = id
	return e
}

// checkHeader decodes the GPP header with bounds go-gpp lacks (its
// Fibonacci decoder recurses exponentially on long code words and its id
// expansion loops forever on id 65535) and returns the section ids, which
// must match the n sections that follow.
func checkHeader(h string, n int) ([]int, error) {
	const part = "gpp header"
	if len(h) > maxHeaderLen {
		return nil, malformed(part, "longer than "+strconv.Itoa(maxHeaderLen)+" bytes", nil)
	}
	bs, err := util.NewBitStreamFromBase64(h)
	if err != nil {
		return nil, malformed(part, "not base64url", err)
	}
	typ, err := bs.ReadByte6()
	if err != nil {
		return nil, malformed(part, "cut short", err)
	}
	if typ != byte(constants.SectionGPP) {
		return nil, malformed(part, "type "+strconv.Itoa(int(typ))+", want 3", nil)
	}
	ver, err := bs.ReadByte6()
	if err != nil {
		return nil, malformed(part, "cut short", err)
	}
	if ver != 1 {
		return nil, unsupported(part, "GPP version "+strconv.Itoa(int(ver))+"; only version 1 is read")
	}
	entries, err := bs.ReadUInt12()
	if err != nil {
		return nil, malformed(part, "cut short", err)
	}
	ids := make([]int, 0, n)
	last := 0
	for i := 0; i < int(entries); i++ {
		isRange, err := bs.ReadByte1()
		if err != nil {
			return nil, malformed(part, "cut short", err)
		}
		off, err := readFib(bs)
		if err != nil {
			return nil, err
		}
		start, end := last+off, last+off
		if isRange == 1 {
			if off, err = readFib(bs); err != nil {
				return nil, err
			}
			end = start + off
		}
		if end > maxSectionID {
			return nil, malformed(part, "section id "+strconv.Itoa(end)+" out of range", nil)
		}
		if len(ids)+end-start+1 > n {
			return nil, malformed(part, "more section ids than sections", nil)
		}
		for id := start; id <= end; id++ {
			if id == int(constants.SectionGPP) {
				return nil, malformed(part, "section id 3 is the header's own", nil)
			}
			ids = append(ids, id)
		}
		last = end
	}
	if len(ids) != n {
		return nil, malformed(part, strconv.Itoa(len(ids))+" section ids for "+strconv.Itoa(n)+" sections", nil)
	}
	return ids, nil
}

// readFib reads one Fibonacci-coded integer as go-gpp does (bit k, counting
// from 1, adds fib(k+1); "11" ends the code word), refusing code words
// longer than maxFibBits.
func readFib(bs *util.BitStream) (int, error) {
	fib := [maxFibBits + 2]int{1, 1}
	for i := 2; i < len(fib); i++ {
		fib[i] = fib[i-1] + fib[i-2]
	}
	v, prev := 0, byte(0)
	for k := 1; k <= maxFibBits+1; k++ {
		b, err := bs.ReadByte1()
		if err != nil {
			return 0, malformed("gpp header", "cut short", err)
		}
		if b == 1 && prev == 1 {
			return v, nil
		}
		if b == 1 {
			v += fib[k]
		}
		prev = b
	}
	return 0, malformed("gpp header", "Fibonacci code word longer than "+strconv.Itoa(maxFibBits)+" bits", nil)
}

// usSection reduces a go-gpp US section to a USSection.
func usSection(id int, sec gpp.Section) (USSection, *ParseError) {
	u := USSection{ID: id, Name: SectionName(id)}
	var v, sale, share, ads byte
	gpc := false
	common := func(c sections.CommonUSCoreSegment) {
		v, sale, ads = c.Version, c.SaleOptOut, c.TargetedAdvertisingOptOut
	}
	switch s := sec.(type) {
	case uspnat.USPNAT:
		c := s.CoreSegment
		v, sale, share, ads, gpc = c.Version, c.SaleOptOut, c.SharingOptOut, c.TargetedAdvertisingOptOut, s.GPCSegment.Gpc
	case uspca.USPCA:
		c := s.CoreSegment
		v, sale, share, gpc = c.Version, c.SaleOptOut, c.SharingOptOut, s.GPCSegment.Gpc
	case uspva.USPVA:
		common(s.CoreSegment)
	case uspco.USPCO:
		common(s.CoreSegment)
		gpc = s.GPCSegment.Gpc
	case usput.USPUT:
		c := s.CoreSegment
		v, sale, ads = c.Version, c.SaleOptOut, c.TargetedAdvertisingOptOut
	case uspct.USPCT:
		common(s.CoreSegment)
		gpc = s.GPCSegment.Gpc
	default:
		return u, malformed(u.Name, "unexpected section type", nil)
	}
	for _, f := range []byte{sale, share, ads} {
		if f > byte(DidNotOptOut) {
			return u, malformed(u.Name, "opt-out field value "+strconv.Itoa(int(f))+" out of range 0-2", nil)
		}
	}
	u.Version, u.GPC = int(v), gpc
	u.SaleOptOut, u.SharingOptOut, u.TargetedAdvertisingOptOut = OptOut(sale), OptOut(share), OptOut(ads)
	return u, nil
}
