package seed

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/carlot/carlot/models"
)

// The listing details of the demo vehicles: body, trims, transmission and
// drivetrain by model, and the interior colors, features and descriptions
// a dealer's listing carries. Like the catalog, this is fixed data.

// listingSpec is what a model is listed with.
type listingSpec struct {
	body models.BodyStyle
	// trims are the model's trim levels, the commonest first.
	trims []string
	// trans is the usual transmission; manualPercent of the vehicles built
	// before the anchor year have a manual one instead.
	trans         models.Transmission
	manualPercent int
	// drives are the drivetrains offered, with their shares, as
	// "FWD:7 AWD:3".
	drives string
}

// listingSpecs holds every catalog model's listing spec, by "make/model".
var listingSpecs = map[string]listingSpec{
	"Toyota/Corolla":    {models.BodySedan, trims("L", "LE", "SE", "XSE"), models.TransmissionCVT, 3, "FWD:1"},
	"Toyota/Camry":      {models.BodySedan, trims("LE", "SE", "XLE", "XSE"), models.TransmissionAutomatic, 0, "FWD:8 AWD:2"},
	"Toyota/RAV4":       {models.BodySUV, trims("LE", "XLE", "XLE Premium", "Limited", "TRD Off-Road"), models.TransmissionAutomatic, 0, "AWD:7 FWD:3"},
	"Toyota/Prius":      {models.BodyHatchback, trims("LE", "XLE", "Limited"), models.TransmissionCVT, 0, "FWD:8 AWD:2"},
	"Toyota/Highlander": {models.BodySUV, trims("LE", "XLE", "Limited", "Platinum"), models.TransmissionAutomatic, 0, "AWD:8 FWD:2"},
	"Toyota/Tacoma":     {models.BodyPickup, trims("SR", "SR5", "TRD Sport", "TRD Off-Road", "Limited"), models.TransmissionAutomatic, 12, "FOUR_WD:7 RWD:3"},
	"Toyota/Tundra":     {models.BodyPickup, trims("SR", "SR5", "Limited", "Platinum", "1794 Edition"), models.TransmissionAutomatic, 0, "FOUR_WD:8 RWD:2"},
	"Toyota/bZ4X":       {models.BodySUV, trims("L", "XLE", "Limited"), models.TransmissionAutomatic, 0, "FWD:5 AWD:5"},

	"Honda/Civic":   {models.BodySedan, trims("LX", "Sport", "EX", "Touring", "Si"), models.TransmissionCVT, 8, "FWD:1"},
	"Honda/Accord":  {models.BodySedan, trims("LX", "Sport", "EX-L", "Touring"), models.TransmissionCVT, 2, "FWD:1"},
	"Honda/CR-V":    {models.BodySUV, trims("LX", "EX", "EX-L", "Touring"), models.TransmissionCVT, 0, "AWD:7 FWD:3"},
	"Honda/Pilot":   {models.BodySUV, trims("LX", "EX-L", "TrailSport", "Elite"), models.TransmissionAutomatic, 0, "AWD:8 FWD:2"},
	"Honda/HR-V":    {models.BodySUV, trims("LX", "Sport", "EX-L"), models.TransmissionCVT, 0, "FWD:5 AWD:5"},
	"Honda/Odyssey": {models.BodyMinivan, trims("EX", "EX-L", "Touring", "Elite"), models.TransmissionAutomatic, 0, "FWD:1"},

	"Ford/F-150":           {models.BodyPickup, trims("XL", "XLT", "Lariat", "King Ranch", "Platinum"), models.TransmissionAutomatic, 0, "FOUR_WD:8 RWD:2"},
	"Ford/F-150 Lightning": {models.BodyPickup, trims("Pro", "XLT", "Lariat", "Platinum"), models.TransmissionAutomatic, 0, "FOUR_WD:1"},
	"Ford/Escape":          {models.BodySUV, trims("S", "SE", "SEL", "Titanium"), models.TransmissionAutomatic, 0, "FWD:5 AWD:5"},
	"Ford/Explorer":        {models.BodySUV, trims("Base", "XLT", "Limited", "ST", "Platinum"), models.TransmissionAutomatic, 0, "AWD:7 RWD:3"},
	"Ford/Mustang":         {models.BodyCoupe, trims("EcoBoost", "EcoBoost Premium", "GT", "GT Premium", "Mach 1"), models.TransmissionAutomatic, 25, "RWD:1"},
	"Ford/Mustang Mach-E":  {models.BodySUV, trims("Select", "Premium", "GT"), models.TransmissionAutomatic, 0, "AWD:6 RWD:4"},
	"Ford/Bronco":          {models.BodySUV, trims("Base", "Big Bend", "Outer Banks", "Badlands", "Wildtrak"), models.TransmissionAutomatic, 20, "FOUR_WD:1"},
	"Ford/Maverick":        {models.BodyPickup, trims("XL", "XLT", "Lariat"), models.TransmissionAutomatic, 0, "FWD:6 AWD:4"},

	"Chevrolet/Silverado 1500": {models.BodyPickup, trims("WT", "Custom", "LT", "RST", "LTZ", "High Country"), models.TransmissionAutomatic, 0, "FOUR_WD:8 RWD:2"},
	"Chevrolet/Equinox":        {models.BodySUV, trims("LS", "LT", "RS", "Premier"), models.TransmissionAutomatic, 0, "FWD:6 AWD:4"},
	"Chevrolet/Malibu":         {models.BodySedan, trims("LS", "RS", "LT", "Premier"), models.TransmissionAutomatic, 0, "FWD:1"},
	"Chevrolet/Tahoe":          {models.BodySUV, trims("LS", "LT", "RST", "Z71", "Premier", "High Country"), models.TransmissionAutomatic, 0, "FOUR_WD:8 RWD:2"},
	"Chevrolet/Traverse":       {models.BodySUV, trims("LS", "LT", "RS", "Premier"), models.TransmissionAutomatic, 0, "FWD:5 AWD:5"},
	"Chevrolet/Bolt EV":        {models.BodyHatchback, trims("1LT", "2LT"), models.TransmissionAutomatic, 0, "FWD:1"},
	"Chevrolet/Camaro":         {models.BodyCoupe, trims("1LT", "2LT", "1SS", "2SS", "ZL1"), models.TransmissionAutomatic, 20, "RWD:1"},

	"BMW/3 Series": {models.BodySedan, trims("330i", "330i xDrive", "M340i xDrive"), models.TransmissionAutomatic, 0, "AWD:7 RWD:3"},
	"BMW/5 Series": {models.BodySedan, trims("530i xDrive", "540i xDrive", "M550i xDrive"), models.TransmissionAutomatic, 0, "AWD:1"},
	"BMW/X1":       {models.BodySUV, trims("xDrive28i", "sDrive28i"), models.TransmissionAutomatic, 0, "AWD:1"},
	"BMW/X3":       {models.BodySUV, trims("xDrive30i", "sDrive30i", "M40i"), models.TransmissionAutomatic, 0, "AWD:9 RWD:1"},
	"BMW/X5":       {models.BodySUV, trims("xDrive40i", "xDrive50e", "M60i"), models.TransmissionAutomatic, 0, "AWD:1"},
	"BMW/i4":       {models.BodySedan, trims("eDrive35", "eDrive40", "xDrive40", "M50"), models.TransmissionAutomatic, 0, "RWD:6 AWD:4"},

	"Mercedes-Benz/C-Class":  {models.BodySedan, trims("C 300 4MATIC", "C 300", "AMG C 43"), models.TransmissionAutomatic, 0, "AWD:8 RWD:2"},
	"Mercedes-Benz/E-Class":  {models.BodySedan, trims("E 350 4MATIC", "E 450 4MATIC", "E 350"), models.TransmissionAutomatic, 0, "AWD:8 RWD:2"},
	"Mercedes-Benz/GLC":      {models.BodySUV, trims("GLC 300 4MATIC", "GLC 300", "AMG GLC 43"), models.TransmissionAutomatic, 0, "AWD:9 RWD:1"},
	"Mercedes-Benz/GLE":      {models.BodySUV, trims("GLE 350 4MATIC", "GLE 450 4MATIC", "AMG GLE 53"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Mercedes-Benz/Sprinter": {models.BodyVan, trims("2500 Cargo", "2500 Crew", "3500 Cargo", "2500 Passenger"), models.TransmissionAutomatic, 0, "RWD:8 AWD:2"},
	"Mercedes-Benz/EQS":      {models.BodySedan, trims("EQS 450+", "EQS 450 4MATIC", "EQS 580 4MATIC"), models.TransmissionAutomatic, 0, "AWD:6 RWD:4"},

	"Volkswagen/Golf":   {models.BodyHatchback, trims("S", "SE", "GTI", "R"), models.TransmissionAutomatic, 25, "FWD:9 AWD:1"},
	"Volkswagen/Jetta":  {models.BodySedan, trims("S", "Sport", "SE", "SEL", "GLI"), models.TransmissionAutomatic, 10, "FWD:1"},
	"Volkswagen/Passat": {models.BodySedan, trims("S", "SE", "SEL"), models.TransmissionAutomatic, 0, "FWD:1"},
	"Volkswagen/Tiguan": {models.BodySUV, trims("S", "SE", "SE R-Line", "SEL R-Line"), models.TransmissionAutomatic, 0, "AWD:6 FWD:4"},
	"Volkswagen/Atlas":  {models.BodySUV, trims("SE", "SE with Technology", "SEL", "SEL Premium"), models.TransmissionAutomatic, 0, "AWD:8 FWD:2"},
	"Volkswagen/ID.4":   {models.BodySUV, trims("Standard", "Pro", "Pro S"), models.TransmissionAutomatic, 0, "RWD:6 AWD:4"},

	"Audi/A4":        {models.BodySedan, trims("Premium", "Premium Plus", "Prestige"), models.TransmissionAutomatic, 0, "AWD:9 FWD:1"},
	"Audi/A6":        {models.BodySedan, trims("Premium", "Premium Plus", "Prestige"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Audi/Q5":        {models.BodySUV, trims("Premium", "Premium Plus", "Prestige"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Audi/Q7":        {models.BodySUV, trims("Premium", "Premium Plus", "Prestige"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Audi/Q8 e-tron": {models.BodySUV, trims("Premium", "Premium Plus", "Prestige"), models.TransmissionAutomatic, 0, "AWD:1"},

	"Hyundai/Elantra":  {models.BodySedan, trims("SE", "SEL", "Limited", "N Line"), models.TransmissionCVT, 4, "FWD:1"},
	"Hyundai/Sonata":   {models.BodySedan, trims("SE", "SEL", "N Line", "Limited"), models.TransmissionAutomatic, 0, "FWD:9 AWD:1"},
	"Hyundai/Tucson":   {models.BodySUV, trims("SE", "SEL", "N Line", "Limited"), models.TransmissionAutomatic, 0, "AWD:6 FWD:4"},
	"Hyundai/Santa Fe": {models.BodySUV, trims("SE", "SEL", "XRT", "Limited", "Calligraphy"), models.TransmissionAutomatic, 0, "AWD:7 FWD:3"},
	"Hyundai/Kona":     {models.BodySUV, trims("SE", "SEL", "N Line", "Limited"), models.TransmissionAutomatic, 0, "FWD:6 AWD:4"},
	"Hyundai/Ioniq 5":  {models.BodySUV, trims("SE", "SEL", "Limited"), models.TransmissionAutomatic, 0, "AWD:6 RWD:4"},

	"Kia/Forte":     {models.BodySedan, trims("LX", "LXS", "GT-Line", "GT"), models.TransmissionCVT, 4, "FWD:1"},
	"Kia/Sportage":  {models.BodySUV, trims("LX", "EX", "X-Line", "SX"), models.TransmissionAutomatic, 0, "AWD:6 FWD:4"},
	"Kia/Sorento":   {models.BodySUV, trims("LX", "S", "EX", "SX"), models.TransmissionAutomatic, 0, "AWD:7 FWD:3"},
	"Kia/Soul":      {models.BodyHatchback, trims("LX", "S", "EX", "GT-Line"), models.TransmissionCVT, 3, "FWD:1"},
	"Kia/Telluride": {models.BodySUV, trims("LX", "S", "EX", "SX", "X-Pro"), models.TransmissionAutomatic, 0, "AWD:8 FWD:2"},
	"Kia/EV6":       {models.BodySUV, trims("Light", "Wind", "GT-Line", "GT"), models.TransmissionAutomatic, 0, "AWD:6 RWD:4"},

	"Nissan/Altima":     {models.BodySedan, trims("S", "SV", "SR", "SL"), models.TransmissionCVT, 0, "FWD:8 AWD:2"},
	"Nissan/Sentra":     {models.BodySedan, trims("S", "SV", "SR"), models.TransmissionCVT, 3, "FWD:1"},
	"Nissan/Rogue":      {models.BodySUV, trims("S", "SV", "SL", "Platinum"), models.TransmissionCVT, 0, "AWD:7 FWD:3"},
	"Nissan/Pathfinder": {models.BodySUV, trims("S", "SV", "SL", "Platinum", "Rock Creek"), models.TransmissionAutomatic, 0, "FOUR_WD:7 FWD:3"},
	"Nissan/Leaf":       {models.BodyHatchback, trims("S", "SV", "SV Plus"), models.TransmissionAutomatic, 0, "FWD:1"},
	"Nissan/Frontier":   {models.BodyPickup, trims("S", "SV", "PRO-4X", "PRO-X"), models.TransmissionAutomatic, 8, "FOUR_WD:7 RWD:3"},

	"Subaru/Outback":   {models.BodyWagon, trims("Base", "Premium", "Limited", "Touring", "Wilderness"), models.TransmissionCVT, 0, "AWD:1"},
	"Subaru/Forester":  {models.BodySUV, trims("Base", "Premium", "Sport", "Limited", "Touring"), models.TransmissionCVT, 4, "AWD:1"},
	"Subaru/Crosstrek": {models.BodySUV, trims("Base", "Premium", "Sport", "Limited"), models.TransmissionCVT, 12, "AWD:1"},
	"Subaru/Impreza":   {models.BodyHatchback, trims("Base", "Sport", "RS"), models.TransmissionCVT, 8, "AWD:1"},
	"Subaru/WRX":       {models.BodySedan, trims("Base", "Premium", "Limited", "GT"), models.TransmissionManual, 0, "AWD:1"},
	"Subaru/Ascent":    {models.BodySUV, trims("Premium", "Limited", "Touring", "Onyx Edition"), models.TransmissionCVT, 0, "AWD:1"},

	"Mazda/Mazda3":     {models.BodyHatchback, trims("2.5 S", "Select", "Preferred", "Premium", "Turbo"), models.TransmissionAutomatic, 10, "FWD:7 AWD:3"},
	"Mazda/CX-5":       {models.BodySUV, trims("S", "Select", "Preferred", "Premium", "Turbo"), models.TransmissionAutomatic, 0, "AWD:8 FWD:2"},
	"Mazda/CX-30":      {models.BodySUV, trims("S", "Select", "Preferred", "Premium", "Turbo"), models.TransmissionAutomatic, 0, "AWD:8 FWD:2"},
	"Mazda/CX-90":      {models.BodySUV, trims("Select", "Preferred", "Premium", "Turbo S"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Mazda/MX-5 Miata": {models.BodyConvertible, trims("Sport", "Club", "Grand Touring"), models.TransmissionManual, 0, "RWD:1"},
	"Mazda/Mazda6":     {models.BodySedan, trims("Sport", "Touring", "Grand Touring", "Signature"), models.TransmissionAutomatic, 0, "FWD:1"},

	"Tesla/Model S": {models.BodySedan, trims("Long Range", "Plaid"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Tesla/Model 3": {models.BodySedan, trims("Long Range", "Standard Range Plus", "Performance"), models.TransmissionAutomatic, 0, "RWD:5 AWD:5"},
	"Tesla/Model X": {models.BodySUV, trims("Long Range", "Plaid"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Tesla/Model Y": {models.BodySUV, trims("Long Range", "Performance", "Standard Range"), models.TransmissionAutomatic, 0, "AWD:8 RWD:2"},

	"Volvo/XC90": {models.BodySUV, trims("Core", "Plus", "Ultimate"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Volvo/XC60": {models.BodySUV, trims("Core", "Plus", "Ultimate"), models.TransmissionAutomatic, 0, "AWD:1"},
	"Volvo/XC40": {models.BodySUV, trims("Core", "Plus", "Ultimate"), models.TransmissionAutomatic, 0, "AWD:6 FWD:4"},
	"Volvo/S60":  {models.BodySedan, trims("Core", "Plus", "Ultimate"), models.TransmissionAutomatic, 0, "AWD:6 FWD:4"},
	"Volvo/V60":  {models.BodyWagon, trims("Cross Country", "Core", "Plus"), models.TransmissionAutomatic, 0, "AWD:1"},
}

func trims(names ...string) []string { return names }

// interiorColors are the upholstery colors with their shares.
var interiorColors = []struct {
	name   string
	weight int
}{
	{"Black", 48}, {"Charcoal", 14}, {"Grey", 12}, {"Beige", 10}, {"Ivory", 5}, {"Brown", 6}, {"Red", 3}, {"Blue", 2},
}

// features are the options a listing may name; each vehicle lists a few,
// the first ones more often (newer and dearer cars have more).
var features = []string{
	"Backup camera", "Bluetooth", "Apple CarPlay", "Android Auto", "Heated seats", "Keyless entry",
	"Blind-spot monitoring", "Adaptive cruise control", "Lane-keeping assist", "Remote start",
	"Heated steering wheel", "Sunroof", "Leather seats", "Navigation", "Wireless charging",
	"Premium audio", "Ventilated seats", "Head-up display", "Tow package", "Third-row seating",
}

// maxInStockMicros bounds how long before its listing a demo vehicle
// arrived on the lot: up to 120 days, as for an inventory brought into
// Carlot when the dealer started using it.
const maxInStockMicros = int64(120 * 24 * 60 * 60 * 1_000_000)

// listingTables is listingSpecs by catalog index, with weights to draw from.
type listingTables struct {
	specs          [][]listingSpec         // by make, model
	trims          [][]weights             // by make, model
	drives         [][][]models.Drivetrain // by make, model: the drivetrains
	driveWeights   [][]weights             // by make, model
	interiorColors weights
}

var listing = buildListingTables()

func buildListingTables() *listingTables {
	t := &listingTables{}
	for _, mk := range catalog {
		var specs []listingSpec
		var trimW, driveW []weights
		var drives [][]models.Drivetrain
		for _, md := range mk.models {
			s, ok := listingSpecs[mk.name+"/"+md.name]
			if !ok {
				panic("seed: no listing spec for " + mk.name + " " + md.name)
			}
			specs = append(specs, s)
			w := make([]int, len(s.trims))
			for i := range w {
				w[i] = len(w) - i + 1 // the first trim is the commonest
			}
			trimW = append(trimW, newWeights(w))
			var ds []models.Drivetrain
			w = nil
			for _, part := range strings.Fields(s.drives) {
				name, share, _ := strings.Cut(part, ":")
				n, err := strconv.Atoi(share)
				if err != nil {
					panic(fmt.Sprintf("seed: bad drivetrain share %q for %s %s", part, mk.name, md.name))
				}
				ds = append(ds, models.Drivetrain(name))
				w = append(w, n)
			}
			drives = append(drives, ds)
			driveW = append(driveW, newWeights(w))
		}
		t.specs = append(t.specs, specs)
		t.trims = append(t.trims, trimW)
		t.drives = append(t.drives, drives)
		t.driveWeights = append(t.driveWeights, driveW)
	}
	w := make([]int, len(interiorColors))
	for i, c := range interiorColors {
		w[i] = c.weight
	}
	t.interiorColors = newWeights(w)
	return t
}

// listing draws the listing details of v, after everything else about it
// (its draws come last, so they change nothing drawn before them). isNew
// and ownMake say whether the vehicle is new, and whether it is of its
// dealer's franchise make (only those are certified).
func (g *generator) listing(v *vehicle, isNew, ownMake bool) {
	r := g.rng
	s := &listing.specs[v.make][v.model]
	age := anchorYear - v.year
	switch {
	case isNew:
		v.condition = models.ConditionNew
	case ownMake && age <= 6 && r.IntN(100) < 60:
		v.condition = models.ConditionCertified
	default:
		v.condition = models.ConditionUsed
	}
	v.trim = s.trims[listing.trims[v.make][v.model].pick(r)]
	v.body = s.body
	v.transmission = s.trans
	if v.fuel == models.FuelElectric {
		v.transmission = models.TransmissionAutomatic // a single-speed gearbox
	} else if s.manualPercent > 0 && v.year < anchorYear && r.IntN(100) < s.manualPercent {
		v.transmission = models.TransmissionManual
	}
	v.drivetrain = listing.drives[v.make][v.model][listing.driveWeights[v.make][v.model].pick(r)]
	v.interiorColor = interiorColors[listing.interiorColors.pick(r)].name

	// The sticker price: above a new car's price (dealers discount), and
	// the original sticker of a certified one.
	v.msrpCents = 0
	switch v.condition {
	case models.ConditionNew:
		v.msrpCents = (v.priceCents*int64(1030+r.IntN(60))/1000/10_000 + 1) * 10_000
	case models.ConditionCertified:
		md := &catalog[v.make].models[v.model]
		sticker := md.price * 100
		if v.fuel != md.fuels[0].fuel {
			sticker = sticker * fuelPremiumPerMille[v.fuel] / 1000
		}
		sticker = sticker * int64(1020+r.IntN(60)) / 1000
		// A nearly new, little-driven car can sell above the usual sticker.
		v.msrpCents = (max(sticker, v.priceCents*103/100)/10_000 + 1) * 10_000
	}

	// A few features, more on newer cars: each of the first ones is
	// likelier than the later ones.
	v.features = v.features[:0]
	limit := 3 + r.IntN(4)
	if age <= 3 {
		limit += 2
	}
	bits := r.Uint64()
	for i := range features {
		if len(v.features) == limit {
			break
		}
		if bits>>(i%64)&1 == 1 || i < 2 {
			v.features = append(v.features, uint8(i))
		}
	}

	v.inStockSince = v.createdAt - r.Int64N(maxInStockMicros)
}

// stockNumber appends demo vehicle v's stock number: a letter for its
// condition and the last seven characters of its VIN (the plant and the
// serial number), as many dealers number their stock. VINs' serial parts
// are distinct, so stock numbers are too.
func (v *vehicle) appendStockNumber(b []byte) []byte {
	switch v.condition {
	case models.ConditionNew:
		b = append(b, 'N')
	case models.ConditionCertified:
		b = append(b, 'C')
	default:
		b = append(b, 'U')
	}
	return append(b, v.vin[10:]...)
}

// appendFeatures appends v's features as a PostgreSQL array literal (the
// features need no quoting inside double quotes, nor COPY escaping).
func (v *vehicle) appendFeatures(b []byte) []byte {
	b = append(b, '{')
	for i, f := range v.features {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, features[f]...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendDescription appends v's description: a few plain sentences,
// no tabs, line breaks or backslashes (COPY text needs no escaping).
func (v *vehicle) appendDescription(b []byte) []byte {
	mk := &catalog[v.make]
	md := &mk.models[v.model]
	switch v.condition {
	case models.ConditionNew:
		b = append(b, "Brand-new "...)
	case models.ConditionCertified:
		b = append(b, "Certified pre-owned "...)
	default:
		b = append(b, "Pre-owned "...)
	}
	b = strconv.AppendInt(b, int64(v.year), 10)
	b = append(b, ' ')
	b = append(b, mk.name...)
	b = append(b, ' ')
	b = append(b, md.name...)
	b = append(b, ' ')
	b = append(b, v.trim...)
	if v.color != "" {
		b = append(b, " in "...)
		b = append(b, v.color...)
	}
	b = append(b, ", "...)
	b = append(b, v.interiorColor...)
	b = append(b, " interior. "...)
	if v.condition != models.ConditionNew {
		b = strconv.AppendInt(b, int64(v.mileageKm), 10)
		b = append(b, " km, inspected and ready to drive. "...)
	}
	b = append(b, "Features: "...)
	for i, f := range v.features {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, features[f]...)
	}
	return append(b, '.')
}
