package seed

import (
	"math/rand/v2"
	"time"

	"github.com/carlot/carlot/models"
)

// MaxVehicles bounds Options.Vehicles: every demo vehicle below it has a
// distinct VIN.
const MaxVehicles = 10_000_000

// The fixed points of the demo data. Nothing depends on the clock, so a seed
// made today and one made next year are identical.
const anchorYear = 2026 // the demo's current year: new cars are of this model year or the next

// anchor is the "now" of the demo data: vehicle 0 was listed just before it
// and each later index a few minutes earlier.
var anchor = time.Date(anchorYear, time.January, 1, 0, 0, 0, 0, time.UTC)

const (
	// MinYear is the oldest model year of a demo vehicle.
	MinYear = 2008
	// MaxYear is the newest model year of a demo vehicle: the demo's current
	// year (2026, fixed so the data never depends on the clock) plus one.
	MaxYear = anchorYear + 1

	// rngSeed is the first half of every vehicle's PCG seed; the second is its index.
	rngSeed = 0xCA2107_5EED

	// stepMicros is the mean gap between the listing times of consecutive
	// vehicles: vehicle i is listed between i and i+1 steps before the anchor.
	stepMicros = int64(5 * time.Minute / time.Microsecond)

	// newCarPercent of the vehicles of a dealer's own franchise make are new.
	newCarPercent = 40
	// franchisePercent of a franchise dealer's vehicles are of its make.
	franchisePercent = 80
)

// usedAgeWeight[a] is the share of used vehicles a model years older than the anchor year.
var usedAgeWeight = [...]int{0, 95, 90, 85, 78, 70, 62, 54, 46, 39, 33, 27, 22, 18, 14, 11, 8, 6, 4}

// retainedPerMille[a] is the share of the new price a vehicle a years old is
// worth at typical mileage.
var retainedPerMille = [...]int64{1000, 830, 740, 665, 600, 540, 485, 435, 390, 350, 312, 278, 248, 220, 196, 175, 156, 140, 125}

// fuelPremiumPerMille is the price of a model's non-base fuel variant
// relative to its base price.
var fuelPremiumPerMille = map[models.FuelType]int64{
	models.FuelGasoline: 950,
	models.FuelDiesel:   1060,
	models.FuelHybrid:   1080,
	models.FuelElectric: 1250,
}

// engineCodes fill VIN position 8 by fuel.
var engineCodes = map[models.FuelType]string{
	models.FuelGasoline: "12345ABCF",
	models.FuelDiesel:   "DG",
	models.FuelHybrid:   "HJ",
	models.FuelElectric: "EN",
}

// modelYearCodes maps (year-2010) mod 30 to VIN position 10.
const modelYearCodes = "ABCDEFGHJKLMNPRSTVWXY123456789"

// plantCodes fill VIN position 11 from the top digit of the serial number.
const plantCodes = "ABCFKLMNRU"

// The serial number of vehicle i is (i*serialMul + serialAdd) mod MaxVehicles:
// serialMul is coprime with MaxVehicles (10^7 = 2^7·5^7), so this is a
// bijection on [0, MaxVehicles) and VINs are distinct without looking sequential.
const (
	serialMul = 6_364_137
	serialAdd = 1_442_695
)

func serial(i int) int { return int((uint64(i)*serialMul + serialAdd) % MaxVehicles) }

// vehicle is one demo vehicle, with indexes into catalog and dealers.
type vehicle struct {
	vin        [models.VINLength]byte
	make       int
	model      int
	dealer     int
	year       int
	color      string // "" is NULL
	mileageKm  int
	priceCents int64
	fuel       models.FuelType
	status     models.VehicleStatus
	createdAt  int64 // microseconds since the Unix epoch

	// The listing details (see listing.go).
	condition     models.VehicleCondition
	trim          string
	body          models.BodyStyle
	transmission  models.Transmission
	drivetrain    models.Drivetrain
	interiorColor string
	msrpCents     int64 // 0 is NULL
	features      []uint8
	inStockSince  int64 // microseconds since the Unix epoch
}

// generator derives demo vehicles from their indexes. Each vehicle has its
// own random stream seeded by its index, so vehicle i never depends on how
// many vehicles are seeded or in which order they are made.
type generator struct {
	pcg rand.PCG
	rng *rand.Rand
}

func newGenerator() *generator {
	g := new(generator)
	g.rng = rand.New(&g.pcg)
	return g
}

// vehicle fills v with demo vehicle i. The order of the random draws is part
// of the data: changing it changes every vehicle.
func (g *generator) vehicle(i int, v *vehicle) {
	g.pcg.Seed(rngSeed, uint64(i))
	r := g.rng

	v.dealer = tables.dealers.pick(r)
	d := &dealers[v.dealer]
	franchise, isNew := -1, false
	if d.franchise != "" && r.IntN(100) < franchisePercent {
		franchise = tables.makeIndex[d.franchise]
		isNew = r.IntN(100) < newCarPercent
	}
	if franchise >= 0 {
		v.make = franchise
	} else {
		v.make = tables.makes.pick(r)
	}
	mk := &catalog[v.make]
	if isNew {
		v.model = tables.newModels[v.make].pick(r)
	} else {
		v.model = tables.usedModels[v.make].pick(r)
	}
	md := &mk.models[v.model]

	if isNew {
		v.year = anchorYear
		if r.IntN(100) < 15 {
			v.year = MaxYear
		}
	} else {
		v.year = tables.usedYears[v.make][v.model].pick(r) + MinYear
	}

	fuel := tables.fuels[v.make][v.model].pick(r)
	v.fuel = md.fuels[fuel].fuel

	if r.IntN(1000) < colorUnknownPerMille {
		v.color = ""
	} else {
		v.color = colors[tables.colors.pick(r)].name
	}

	price := md.price * 100
	if fuel > 0 {
		price = price * fuelPremiumPerMille[v.fuel] / 1000
	}
	if isNew {
		v.mileageKm = r.IntN(101)
		price = price * int64(980+r.IntN(71)) / 1000
	} else {
		age := anchorYear - v.year
		yearsMilli := age*1000 - 500 + r.IntN(1000)
		kmPerYear := 10_000 + r.IntN(15_001)
		v.mileageKm = yearsMilli * kmPerYear / 1000
		price = price * retainedPerMille[age] / 1000
		price = price * int64(1100-(kmPerYear-10_000)*200/15_000) / 1000 // 1.1 at 10,000 km/year to 0.9 at 25,000
		price = price * int64(920+r.IntN(161)) / 1000
	}
	dollars := (price/100 + 50) / 100 * 100
	if r.IntN(10) < 6 {
		dollars -= 5 // $23,495 rather than $23,500
	}
	v.priceCents = max(dollars, 1495) * 100

	switch n := r.IntN(100); {
	case n < 75:
		v.status = models.StatusAvailable
	case n < 85:
		v.status = models.StatusReserved
	default:
		v.status = models.StatusSold
	}

	v.createdAt = anchor.UnixMicro() - int64(i)*stepMicros - r.Int64N(stepMicros)

	codes := engineCodes[v.fuel]
	engine := codes[r.IntN(len(codes))]
	s := serial(i)
	b := v.vin[:0]
	b = append(b, mk.wmi...)
	b = append(b, md.code...)
	b = append(b, engine, '0', modelYearCodes[((v.year-2010)%30+30)%30], plantCodes[s/1_000_000])
	n := s % 1_000_000
	for k := len(b) + 5; k >= len(b); k-- {
		v.vin[k] = byte('0' + n%10)
		n /= 10
	}
	v.vin[8] = models.CheckDigit(string(v.vin[:]))

	g.listing(v, isNew, mk.name == d.franchise)
}

// VIN returns the VIN of demo vehicle i, or "" when i is outside [0, MaxVehicles).
func VIN(i int) string {
	if i < 0 || i >= MaxVehicles {
		return ""
	}
	var v vehicle
	newGenerator().vehicle(i, &v)
	return string(v.vin[:])
}

// weights picks an index with probability proportional to its weight.
type weights []int // cumulative

func newWeights(w []int) weights {
	cum := make(weights, len(w))
	total := 0
	for i, x := range w {
		total += x
		cum[i] = total
	}
	return cum
}

// pick draws one index; at least one weight must be positive.
func (c weights) pick(r *rand.Rand) int {
	x := r.IntN(c[len(c)-1])
	lo, hi := 0, len(c)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if c[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// tables holds the cumulative weights derived from the catalog.
var tables = buildTables()

type weightTables struct {
	dealers, makes, colors weights
	makeIndex              map[string]int
	newModels, usedModels  []weights   // by make
	usedYears, fuels       [][]weights // by make, model; years are offsets from MinYear
}

func buildTables() *weightTables {
	t := &weightTables{makeIndex: make(map[string]int)}
	var w []int
	for _, d := range dealers {
		w = append(w, d.weight)
	}
	t.dealers = newWeights(w)
	w = nil
	for _, c := range colors {
		w = append(w, c.weight)
	}
	t.colors = newWeights(w)
	w = nil
	for mi, mk := range catalog {
		t.makeIndex[mk.name] = mi
		w = append(w, mk.weight)
		var newW, usedW []int
		var years, fuels []weights
		for _, md := range mk.models {
			lo, hi := max(md.from, MinYear), anchorYear-1
			if md.to != 0 {
				hi = min(hi, md.to)
			}
			yw := make([]int, MaxYear-MinYear+1)
			for y := lo; y <= hi; y++ {
				yw[y-MinYear] = usedAgeWeight[anchorYear-y]
			}
			years = append(years, newWeights(yw))
			usedW = append(usedW, md.weight)
			if md.to == 0 {
				newW = append(newW, md.weight)
			} else {
				newW = append(newW, 0)
			}
			var fw []int
			for _, f := range md.fuels {
				fw = append(fw, f.weight)
			}
			fuels = append(fuels, newWeights(fw))
		}
		t.newModels = append(t.newModels, newWeights(newW))
		t.usedModels = append(t.usedModels, newWeights(usedW))
		t.usedYears = append(t.usedYears, years)
		t.fuels = append(t.fuels, fuels)
	}
	t.makes = newWeights(w)
	return t
}
