package seed

import (
	"math"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/carlot/carlot/models"
)

// These tests check the fixed data and the generator without a database.

func TestCatalogIsWellFormed(t *testing.T) {
	makes := map[string]bool{}
	for _, mk := range catalog {
		if makes[strings.ToLower(mk.name)] {
			t.Errorf("make %q listed twice", mk.name)
		}
		makes[strings.ToLower(mk.name)] = true
		if len(mk.wmi) != 3 || !models.VINShaped(mk.wmi+"00000000000000") {
			t.Errorf("%s: bad WMI %q", mk.name, mk.wmi)
		}
		// decodeVin names the same make, so a create form can match it.
		if m := models.DecodeVIN(mk.wmi + "00000000000000").Manufacturer; m == nil || *m != mk.name {
			t.Errorf("%s: decodeVin does not read WMI %q as %s", mk.name, mk.wmi, mk.name)
		}
		if n := len(mk.models); n < 4 || n > 8 {
			t.Errorf("%s has %d models, want 4-8", mk.name, n)
		}
		seen := map[string]bool{}
		stillSold := false
		for _, md := range mk.models {
			if seen[strings.ToLower(md.name)] {
				t.Errorf("%s %s listed twice", mk.name, md.name)
			}
			seen[strings.ToLower(md.name)] = true
			if len(md.code) != 4 || !models.VINShaped(md.code+"0000000000000") {
				t.Errorf("%s %s: bad VIN code %q", mk.name, md.name, md.code)
			}
			if md.price < 15000 || md.price > 150000 {
				t.Errorf("%s %s: implausible price %d", mk.name, md.name, md.price)
			}
			if lo, hi := max(md.from, MinYear), anchorYear-1; md.to != 0 && md.to < lo || lo > hi {
				t.Errorf("%s %s: no used model year in range", mk.name, md.name)
			}
			if len(md.fuels) == 0 || md.weight <= 0 {
				t.Errorf("%s %s: no fuel or no weight", mk.name, md.name)
			}
			if mk.name == "Tesla" && (len(md.fuels) != 1 || md.fuels[0].fuel != models.FuelElectric) {
				t.Errorf("%s %s is not electric only", mk.name, md.name)
			}
			stillSold = stillSold || md.to == 0
		}
		if !stillSold {
			t.Errorf("%s sells no new model", mk.name)
		}
	}
	seenDealers := map[string]bool{}
	cities := map[string]bool{}
	for _, d := range dealers {
		if seenDealers[d.name] {
			t.Errorf("dealer %q listed twice", d.name)
		}
		seenDealers[d.name] = true
		cities[d.city] = true
		if d.franchise != "" && !makes[strings.ToLower(d.franchise)] {
			t.Errorf("dealer %q franchises unknown make %q", d.name, d.franchise)
		}
	}
	if len(dealers) != 36 || len(cities) != 12 {
		t.Errorf("%d dealers in %d cities, want 36 in 12", len(dealers), len(cities))
	}
}

func TestSerialsAreDistinct(t *testing.T) {
	seen := make([]bool, MaxVehicles)
	for i := range MaxVehicles {
		s := serial(i)
		if s < 0 || s >= MaxVehicles || seen[s] {
			t.Fatalf("serial(%d) = %d repeats or is out of range", i, s)
		}
		seen[s] = true
	}
}

func TestVINs(t *testing.T) {
	if VIN(-1) != "" || VIN(MaxVehicles) != "" {
		t.Error("VIN outside [0, MaxVehicles) is not empty")
	}
	g := newGenerator()
	var v vehicle
	seen := map[string]int{}
	check := func(i int) {
		g.vehicle(i, &v)
		vin := string(v.vin[:])
		if p := models.VINProblem(vin); p != "" {
			t.Fatalf("VIN(%d) = %s: %s", i, vin, p)
		}
		if j, dup := seen[vin]; dup {
			t.Fatalf("VIN(%d) = VIN(%d) = %s", i, j, vin)
		}
		seen[vin] = i
		if vin != VIN(i) {
			t.Fatalf("VIN(%d) disagrees with the generator", i)
		}
		if vin[:3] != catalog[v.make].wmi {
			t.Fatalf("VIN(%d) = %s does not start with the WMI of %s", i, vin, catalog[v.make].name)
		}
		if want := modelYearCodes[(v.year-2010+30)%30]; vin[9] != want {
			t.Fatalf("VIN(%d) = %s: year code %c for %d, want %c", i, vin, vin[9], v.year, want)
		}
	}
	for i := range 20000 {
		check(i)
	}
	for i := MaxVehicles - 1; i >= 20000; i -= 99991 {
		check(i)
	}
}

func TestVehicleIsAFunctionOfItsIndex(t *testing.T) {
	var a, b vehicle
	g1, g2 := newGenerator(), newGenerator()
	for i := range 100 {
		g1.vehicle(i, &a)
	}
	g1.vehicle(7, &a)
	g2.vehicle(7, &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("vehicle 7 depends on what was generated before: %+v vs %+v", a, b)
	}
}

// Every demo dealer's lot lies within 10 km of its city's centre, and its
// contact details have the shapes the API accepts.
func TestDealersAreInTheirCities(t *testing.T) {
	postal := regexp.MustCompile(`^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$`)
	phone := regexp.MustCompile(`^\+1 [0-9]{3} 555 01[0-9]{2}$`)
	phones := map[string]bool{}
	for d, spec := range dealers {
		place, ok := cityPlaces[spec.city]
		if !ok {
			t.Fatalf("%s: no place for %s", spec.name, spec.city)
		}
		c := contactOf(d)
		if km := distanceKm(place.latitude, place.longitude, c.latitude, c.longitude); km > 10 {
			t.Errorf("%s is %.1f km from the centre of %s", spec.name, km, spec.city)
		}
		if !postal.MatchString(c.postalCode) || c.postalCode[:3] != place.fsa {
			t.Errorf("%s: postal code %q", spec.name, c.postalCode)
		}
		if !phone.MatchString(c.phone) || phones[c.phone] {
			t.Errorf("%s: phone %q is malformed or taken", spec.name, c.phone)
		}
		phones[c.phone] = true
		if u, err := url.Parse(c.website); err != nil || u.Scheme != "https" || !strings.HasSuffix(u.Host, ".example") {
			t.Errorf("%s: website %q", spec.name, c.website)
		}
		if contactOf(d) != c {
			t.Errorf("%s: details differ between calls", spec.name)
		}
	}
}

// distanceKm is the great-circle distance between two points.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * 6371 * math.Asin(math.Sqrt(h))
}
