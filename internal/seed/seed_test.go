package seed_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carlot/carlot/internal/seed"
	"github.com/carlot/carlot/internal/testdb"
	"github.com/carlot/carlot/models"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// The size of the demo catalog.
const (
	wantMakes   = 15
	wantModels  = 91
	wantDealers = 36
	wantUsers   = wantDealers + 1 // an ADMIN and a STAFF user per dealer
)

// testPassword is the demo accounts' password where a test chooses it.
const testPassword = "seed-test-password"

type vehicleRow struct {
	ID         int64     `bun:"id"`
	VIN        string    `bun:"vin"`
	Make       string    `bun:"make"`
	Model      string    `bun:"model"`
	Dealer     string    `bun:"dealer"`
	City       string    `bun:"city"`
	Year       int       `bun:"year"`
	Color      *string   `bun:"color"`
	MileageKm  int       `bun:"mileage_km"`
	PriceCents int64     `bun:"price_cents"`
	Fuel       string    `bun:"fuel"`
	Status     string    `bun:"status"`
	Version    int       `bun:"version"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`

	StockNumber   *string   `bun:"stock_number"`
	Condition     string    `bun:"condition"`
	Trim          *string   `bun:"trim"`
	BodyStyle     *string   `bun:"body_style"`
	Transmission  *string   `bun:"transmission"`
	Drivetrain    *string   `bun:"drivetrain"`
	InteriorColor *string   `bun:"interior_color"`
	MSRPCents     *int64    `bun:"msrp_cents"`
	Description   *string   `bun:"description"`
	Features      []string  `bun:"features,array"`
	InStockSince  time.Time `bun:"in_stock_since"`
}

type dealerRow struct {
	ID        int64     `bun:"id"`
	Name      string    `bun:"name"`
	City      string    `bun:"city"`
	CreatedAt time.Time `bun:"created_at"`
	Latitude  *float64  `bun:"latitude"`
	Longitude *float64  `bun:"longitude"`
	Postal    *string   `bun:"postal_code"`
	Phone     *string   `bun:"phone"`
	Website   *string   `bun:"website"`
}

// userRow is a user without the password hash, whose salt is random.
type userRow struct {
	ID     int64   `bun:"id"`
	Email  string  `bun:"email"`
	Role   string  `bun:"role"`
	Dealer *string `bun:"dealer"`
}

type catalogRow struct {
	ID    int64  `bun:"id"`
	Make  string `bun:"make"`
	Model string `bun:"model"`
}

// snapshot is everything the seed writes, in id order.
type snapshot struct {
	Makes, Models []catalogRow
	Dealers       []dealerRow
	Vehicles      []vehicleRow
	Users         []userRow
	Sequences     []int64 // last_value of each identity sequence
}

func take(t testing.TB, db *bun.DB) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	must(t, db.NewRaw(`SELECT id, name AS make, '' AS model FROM makes ORDER BY id`).Scan(ctx, &s.Makes))
	must(t, db.NewRaw(`SELECT md.id, mk.name AS make, md.name AS model FROM models md JOIN makes mk ON mk.id = md.make_id ORDER BY md.id`).Scan(ctx, &s.Models))
	must(t, db.NewRaw(`SELECT id, name, city, created_at, latitude, longitude, postal_code, phone, website FROM dealers ORDER BY id`).Scan(ctx, &s.Dealers))
	must(t, db.NewRaw(`
		SELECT v.id, v.vin, mk.name AS make, md.name AS model, d.name AS dealer, d.city, v.year, v.color,
		       v.mileage_km, v.price_cents, v.fuel, v.status, v.version, v.created_at, v.updated_at,
		       v.stock_number, v.condition, v.trim, v.body_style, v.transmission, v.drivetrain, v.interior_color,
		       v.msrp_cents, v.description, v.features, v.in_stock_since
		FROM vehicles v
		JOIN makes mk ON mk.id = v.make_id
		JOIN models md ON md.id = v.model_id AND md.make_id = v.make_id
		JOIN dealers d ON d.id = v.dealer_id
		ORDER BY v.id`).Scan(ctx, &s.Vehicles))
	must(t, db.NewRaw(`SELECT u.id, u.email, u.role, d.name AS dealer FROM users u LEFT JOIN dealers d ON d.id = u.dealer_id ORDER BY u.id`).Scan(ctx, &s.Users))
	must(t, db.NewRaw(`
		SELECT coalesce(last_value, 0) FROM pg_sequences
		WHERE sequencename IN ('makes_id_seq', 'models_id_seq', 'dealers_id_seq', 'vehicles_id_seq', 'users_id_seq')
		ORDER BY sequencename`).Scan(ctx, &s.Sequences))
	for i := range s.Dealers {
		s.Dealers[i].CreatedAt = s.Dealers[i].CreatedAt.UTC()
	}
	for i := range s.Vehicles {
		v := &s.Vehicles[i]
		v.CreatedAt, v.UpdatedAt, v.InStockSince = v.CreatedAt.UTC(), v.UpdatedAt.UTC(), v.InStockSince.UTC()
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, db *bun.DB, opts seed.Options) seed.Result {
	t.Helper()
	res, err := seed.Run(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("seed.Run(%+v): %v", opts, err)
	}
	return res
}

// sameVehicles fails unless a and b hold the same vehicles.
func sameVehicles(t *testing.T, what string, a, b []vehicleRow) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vehicles vs %d", what, len(a), len(b))
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("%s: vehicle %d differs:\n%+v\n%+v", what, i, a[i], b[i])
		}
	}
}

func sameSnapshot(t *testing.T, what string, a, b snapshot) {
	t.Helper()
	sameVehicles(t, what, a.Vehicles, b.Vehicles)
	a.Vehicles, b.Vehicles = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("%s: catalog differs:\n%+v\n%+v", what, a, b)
	}
}

func TestRunInsertsTheCatalogAndVehicles(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	res := run(t, db, seed.Options{Vehicles: 1000, Password: testPassword})
	want := seed.Result{Makes: wantMakes, Models: wantModels, Dealers: wantDealers, Vehicles: 1000, Users: wantUsers}
	if res != want {
		t.Fatalf("Result = %+v, want %+v", res, want)
	}
	s := take(t, db)
	if got := (seed.Result{Makes: len(s.Makes), Models: len(s.Models), Dealers: len(s.Dealers), Vehicles: len(s.Vehicles), Users: len(s.Users)}); got != want {
		t.Fatalf("database holds %+v, want %+v", got, want)
	}
	// A fresh database numbers vehicle i as id i+1.
	for i, v := range s.Vehicles {
		if v.ID != int64(i+1) || v.VIN != seed.VIN(i) {
			t.Fatalf("row %d is id %d VIN %s, want id %d VIN %s", i, v.ID, v.VIN, i+1, seed.VIN(i))
		}
	}
}

func TestZeroVehicles(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	res := run(t, db, seed.Options{Password: testPassword})
	if want := (seed.Result{Makes: wantMakes, Models: wantModels, Dealers: wantDealers, Users: wantUsers}); res != want {
		t.Fatalf("Result = %+v, want %+v", res, want)
	}
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	for _, n := range []int{-1, seed.MaxVehicles + 1} {
		_, err := seed.Run(context.Background(), db, seed.Options{Vehicles: n})
		if err == nil || !strings.Contains(err.Error(), "vehicles") {
			t.Errorf("Vehicles %d: err = %v, want an error about the number of vehicles", n, err)
		}
	}
	if n, err := db.NewSelect().Table("makes").Count(context.Background()); err != nil || n != 0 {
		t.Errorf("a refused run wrote %d makes (%v)", n, err)
	}
}

func TestSecondRunChangesNothing(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	run(t, db, seed.Options{Vehicles: 1000})
	before := take(t, db)
	if res := run(t, db, seed.Options{Vehicles: 1000}); res != (seed.Result{}) {
		t.Fatalf("second run inserted %+v", res)
	}
	// Fewer vehicles than exist: nothing is added or removed.
	if res := run(t, db, seed.Options{Vehicles: 10}); res != (seed.Result{}) {
		t.Fatalf("smaller run inserted %+v", res)
	}
	sameSnapshot(t, "after repeat runs", before, take(t, db)) // rows, ids and sequences
}

func TestGrowingAddsExactlyTheMissingVehicles(t *testing.T) {
	t.Parallel()
	grown := testdb.New(t, testdb.Empty)
	run(t, grown, seed.Options{Vehicles: 500})
	first := take(t, grown)
	if res := run(t, grown, seed.Options{Vehicles: 1000}); res != (seed.Result{Vehicles: 500}) {
		t.Fatalf("growing to 1000 inserted %+v, want 500 vehicles", res)
	}
	after := take(t, grown)
	sameVehicles(t, "the first 500", first.Vehicles, after.Vehicles[:500])

	direct := testdb.New(t, testdb.Empty)
	run(t, direct, seed.Options{Vehicles: 1000})
	sameSnapshot(t, "500 then 1000 vs 1000 at once", take(t, direct), after)
}

func TestSameDataInEveryDatabase(t *testing.T) {
	t.Parallel()
	a, b := testdb.New(t, testdb.Empty), testdb.New(t, testdb.Empty)
	run(t, a, seed.Options{Vehicles: 1000})
	run(t, b, seed.Options{Vehicles: 1000})
	sameSnapshot(t, "two databases", take(t, a), take(t, b))
}

func TestResetReseedsTheSameData(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	ctx := context.Background()
	run(t, db, seed.Options{Vehicles: 300, Password: testPassword})
	want := take(t, db)

	// Damage the data: reset must undo all of it.
	for _, q := range []string{
		"UPDATE vehicles SET price_cents = 1, version = version + 1 WHERE id = 3",
		"DELETE FROM vehicles WHERE id = 5",
		"INSERT INTO makes (name) VALUES ('Lada')",
		"INSERT INTO dealers (name, city) VALUES ('Some Lot', 'Regina')",
		"DELETE FROM users WHERE id = 2",
		"UPDATE users SET role = 'VIEWER', dealer_id = NULL WHERE id = 3",
		"INSERT INTO users (email, password_hash, role) VALUES ('someone@example.com', 'x', 'VIEWER')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res := run(t, db, seed.Options{Vehicles: 300, Reset: true, Password: testPassword})
	if want := (seed.Result{Makes: wantMakes, Models: wantModels, Dealers: wantDealers, Vehicles: 300, Users: wantUsers}); res != want {
		t.Fatalf("Result = %+v, want %+v", res, want)
	}
	sameSnapshot(t, "after reset", want, take(t, db))

	run(t, db, seed.Options{Reset: true})
	if n := len(take(t, db).Vehicles); n != 0 {
		t.Fatalf("reset with no vehicles left %d vehicles", n)
	}
}

func TestVINsAreValidAndUnique(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	run(t, db, seed.Options{Vehicles: 5000})
	wmi := map[string]string{
		"Toyota": "JTD", "Honda": "1HG", "Ford": "1FA", "Chevrolet": "1G1", "BMW": "WBA",
		"Mercedes-Benz": "WDD", "Volkswagen": "WVW", "Audi": "WAU", "Hyundai": "KMH", "Kia": "KNA",
		"Nissan": "1N4", "Subaru": "JF1", "Mazda": "JM1", "Tesla": "5YJ", "Volvo": "YV1",
	}
	seen := map[string]bool{}
	for _, v := range take(t, db).Vehicles {
		if p := models.VINProblem(v.VIN); p != "" {
			t.Fatalf("VIN %s: %s", v.VIN, p)
		}
		if seen[v.VIN] {
			t.Fatalf("VIN %s repeats", v.VIN)
		}
		seen[v.VIN] = true
		if v.VIN[:3] != wmi[v.Make] {
			t.Fatalf("VIN %s of a %s does not start with %s", v.VIN, v.Make, wmi[v.Make])
		}
	}
}

func TestDataIsRealistic(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.Empty)
	const n = 20000
	run(t, db, seed.Options{Vehicles: n})
	s := take(t, db)

	modelsPerMake := map[string]int{}
	for _, m := range s.Models {
		modelsPerMake[m.Make]++
	}
	for mk, k := range modelsPerMake {
		if k < 4 || k > 8 {
			t.Errorf("%s has %d models", mk, k)
		}
	}
	cities := map[string]bool{}
	for _, d := range s.Dealers {
		cities[d.City] = true
		if d.Latitude == nil || d.Longitude == nil || d.Postal == nil || d.Phone == nil || d.Website == nil {
			t.Errorf("dealer %s lacks location or contact details: %+v", d.Name, d)
		}
	}
	if len(cities) != 12 {
		t.Errorf("dealers are in %d cities, want 12", len(cities))
	}

	statuses, fuels, dealers, makes := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	noColor := 0
	if seed.MinYear != 2008 || seed.MaxYear != 2027 {
		t.Errorf("model years %d..%d, want 2008..2027 (the demo's current year, 2026, plus one)", seed.MinYear, seed.MaxYear)
	}
	for i, v := range s.Vehicles {
		if v.PriceCents < 0 || v.PriceCents%100 != 0 {
			t.Fatalf("%s: price %d cents is negative or not whole dollars", v.VIN, v.PriceCents)
		}
		if v.PriceCents < 1000_00 || v.PriceCents > 150_000_00 {
			t.Fatalf("%s: implausible price $%d", v.VIN, v.PriceCents/100)
		}
		if v.MileageKm < 0 || v.MileageKm > 500_000 {
			t.Fatalf("%s: implausible mileage %d km", v.VIN, v.MileageKm)
		}
		if v.Year < seed.MinYear || v.Year > seed.MaxYear {
			t.Fatalf("%s: year %d outside %d..%d", v.VIN, v.Year, seed.MinYear, seed.MaxYear)
		}
		if v.Year >= seed.MaxYear-1 && v.MileageKm > 100 {
			t.Fatalf("%s: a new %d vehicle has %d km", v.VIN, v.Year, v.MileageKm)
		}
		if age := seed.MaxYear - 1 - v.Year; age >= 1 && (v.MileageKm < 5_000*age || v.MileageKm > 30_000*age+15_000) {
			t.Fatalf("%s: %d km is implausible for a %d vehicle", v.VIN, v.MileageKm, v.Year)
		}
		if v.Make == "Tesla" && v.Fuel != string(models.FuelElectric) {
			t.Fatalf("%s: a Tesla running on %s", v.VIN, v.Fuel)
		}
		if v.Model == "Prius" && v.Fuel != string(models.FuelHybrid) {
			t.Fatalf("%s: a Prius running on %s", v.VIN, v.Fuel)
		}
		if v.Version != 1 || !v.UpdatedAt.Equal(v.CreatedAt) {
			t.Fatalf("%s: version %d, updated_at %v, created_at %v", v.VIN, v.Version, v.UpdatedAt, v.CreatedAt)
		}
		// Newest first by index; created_at is distinct and before the anchor.
		if i > 0 && !v.CreatedAt.Before(s.Vehicles[i-1].CreatedAt) {
			t.Fatalf("%s: created_at %v is not before the previous vehicle's", v.VIN, v.CreatedAt)
		}
		statuses[v.Status]++
		fuels[v.Fuel]++
		dealers[v.Dealer]++
		makes[v.Make]++
		if v.Color == nil {
			noColor++
		}
	}
	if last := s.Vehicles[n-1].CreatedAt; !last.Before(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || last.Year() < 2025 {
		t.Errorf("the oldest vehicle was listed %v", last)
	}
	share := func(k int) float64 { return float64(k) / n }
	for status, want := range map[models.VehicleStatus]float64{
		models.StatusAvailable: 0.75, models.StatusReserved: 0.10, models.StatusSold: 0.15,
	} {
		t.Run(string(status), func(t *testing.T) {
			if got := share(statuses[string(status)]); got < want-0.02 || got > want+0.02 {
				t.Errorf("%.3f of vehicles are %s, want about %.2f", got, status, want)
			}
		})
	}
	for _, f := range []models.FuelType{models.FuelGasoline, models.FuelDiesel, models.FuelHybrid, models.FuelElectric} {
		if fuels[string(f)] == 0 {
			t.Errorf("no %s vehicles", f)
		}
	}
	if got := share(fuels[string(models.FuelGasoline)]); got < 0.6 || got > 0.9 {
		t.Errorf("%.3f of vehicles run on gasoline", got)
	}
	if got := share(noColor); got == 0 || got > 0.05 {
		t.Errorf("%.3f of vehicles have no color", got)
	}
	if len(dealers) != wantDealers || len(makes) != wantMakes {
		t.Errorf("vehicles at %d dealers of %d makes, want every dealer and make", len(dealers), len(makes))
	}
	listingIsRealistic(t, s.Vehicles)
}

// listingIsRealistic checks the listing details of the demo vehicles:
// every one has them all, in the shapes the API accepts, plausible for its
// model, condition and age.
func listingIsRealistic(t *testing.T, vehicles []vehicleRow) {
	t.Helper()
	stockNumber := regexp.MustCompile(`^[NUC][A-Z0-9]{7}$`)
	bodyOf := map[string]string{"F-150": "PICKUP", "Odyssey": "MINIVAN", "Outback": "WAGON", "MX-5 Miata": "CONVERTIBLE",
		"Corolla": "SEDAN", "RAV4": "SUV", "Golf": "HATCHBACK", "Mustang": "COUPE", "Sprinter": "VAN"}
	conditions, bodies, transmissions, drivetrains := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	stockNumbers := map[string]bool{}
	const maxInStock = 120 * 24 * time.Hour
	for _, v := range vehicles {
		if v.StockNumber == nil || !stockNumber.MatchString(*v.StockNumber) || *v.StockNumber != string(v.Condition[0])+v.VIN[10:] {
			t.Fatalf("%s: stock number %v", v.VIN, v.StockNumber)
		}
		key := v.Dealer + "/" + strings.ToLower(*v.StockNumber)
		if stockNumbers[key] {
			t.Fatalf("%s: stock number %s is taken at %s", v.VIN, *v.StockNumber, v.Dealer)
		}
		stockNumbers[key] = true
		if v.Trim == nil || *v.Trim == "" || len(*v.Trim) > models.MaxTrimLength || v.BodyStyle == nil || v.Transmission == nil ||
			v.Drivetrain == nil || v.InteriorColor == nil || len(*v.InteriorColor) > models.MaxInteriorColorLength {
			t.Fatalf("%s: details missing: %+v", v.VIN, v)
		}
		if want, ok := bodyOf[v.Model]; ok && *v.BodyStyle != want {
			t.Fatalf("%s: a %s with a %s body", v.VIN, v.Model, *v.BodyStyle)
		}
		if v.Fuel == string(models.FuelElectric) && *v.Transmission != string(models.TransmissionAutomatic) {
			t.Fatalf("%s: an electric %s with a %s transmission", v.VIN, v.Model, *v.Transmission)
		}
		if (v.Make == "Subaru" || v.Model == "Model X") && *v.Drivetrain != string(models.DrivetrainAWD) {
			t.Fatalf("%s: a %s %s with %s", v.VIN, v.Make, v.Model, *v.Drivetrain)
		}
		switch models.VehicleCondition(v.Condition) {
		case models.ConditionNew:
			if v.Year < 2026 || v.MSRPCents == nil || *v.MSRPCents <= v.PriceCents || *v.MSRPCents > v.PriceCents*12/10 {
				t.Fatalf("%s: a new %d car priced %d with MSRP %v", v.VIN, v.Year, v.PriceCents, v.MSRPCents)
			}
		case models.ConditionCertified:
			if v.Year < 2020 || v.MSRPCents == nil || *v.MSRPCents <= v.PriceCents {
				t.Fatalf("%s: a certified %d car priced %d with MSRP %v", v.VIN, v.Year, v.PriceCents, v.MSRPCents)
			}
		case models.ConditionUsed:
			if v.MSRPCents != nil {
				t.Fatalf("%s: a used car with an MSRP", v.VIN)
			}
		default:
			t.Fatalf("%s: condition %q", v.VIN, v.Condition)
		}
		if v.Description == nil || !strings.Contains(*v.Description, v.Model+" "+*v.Trim) ||
			len([]rune(*v.Description)) > models.MaxDescriptionLength || strings.ContainsAny(*v.Description, "\t\n\\") {
			t.Fatalf("%s: description %v", v.VIN, v.Description)
		}
		seen := map[string]bool{}
		for _, f := range v.Features {
			if f == "" || len(f) > models.MaxFeatureLength || seen[strings.ToLower(f)] {
				t.Fatalf("%s: features %q", v.VIN, v.Features)
			}
			seen[strings.ToLower(f)] = true
		}
		if len(v.Features) < 2 || len(v.Features) > 10 {
			t.Fatalf("%s: %d features", v.VIN, len(v.Features))
		}
		if v.InStockSince.After(v.CreatedAt) || v.CreatedAt.Sub(v.InStockSince) > maxInStock {
			t.Fatalf("%s: in stock since %v, listed %v", v.VIN, v.InStockSince, v.CreatedAt)
		}
		conditions[v.Condition]++
		bodies[*v.BodyStyle]++
		transmissions[*v.Transmission]++
		drivetrains[*v.Drivetrain]++
	}
	n := float64(len(vehicles))
	if used := float64(conditions["USED"]) / n; used < 0.6 || used > 0.9 || conditions["NEW"] == 0 || conditions["CERTIFIED"] == 0 {
		t.Errorf("conditions %v", conditions)
	}
	if len(bodies) != len(models.BodyStyles) || len(transmissions) != 3 || len(drivetrains) != 4 {
		t.Errorf("body styles %v, transmissions %v, drivetrains %v: want every one", bodies, transmissions, drivetrains)
	}
}

// BenchmarkSeed100k seeds 100,000 vehicles into a fresh migrated database.
// Run it with: go test ./internal/seed/ -run '^$' -bench Seed100k -benchtime 1x
func BenchmarkSeed100k(b *testing.B) {
	const n = 100_000
	for range b.N {
		b.StopTimer()
		db := testdb.New(b, testdb.Empty)
		b.StartTimer()
		res, err := seed.Run(context.Background(), db, seed.Options{Vehicles: n})
		if err != nil {
			b.Fatal(err)
		}
		if res.Vehicles != n {
			b.Fatalf("inserted %d vehicles, want %d", res.Vehicles, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "vehicles/s")
}

// indexes lists the definitions and comments of the vehicles' indexes,
// constraints and triggers, whether the constraints are validated and
// whether the triggers are enabled.
func indexes(t testing.TB, db *bun.DB) []string {
	t.Helper()
	var defs []string
	must(t, db.NewRaw(`
		SELECT pg_get_indexdef(i.indexrelid) || coalesce(' -- ' || obj_description(i.indexrelid, 'pg_class'), '')
		FROM pg_index i WHERE i.indrelid = 'vehicles'::regclass
		UNION ALL
		SELECT c.conname || ' ' || pg_get_constraintdef(c.oid) || ' ' || c.convalidated::text
		       || coalesce(' -- ' || obj_description(c.oid, 'pg_constraint'), '')
		FROM pg_constraint c WHERE c.conrelid = 'vehicles'::regclass
		UNION ALL
		SELECT pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text || coalesce(' -- ' || obj_description(t.oid, 'pg_trigger'), '')
		FROM pg_trigger t WHERE t.tgrelid = 'vehicles'::regclass AND NOT t.tgisinternal
		ORDER BY 1`).Scan(context.Background(), &defs))
	return defs
}

// rollupDrift lists, for each rollup, how many of its groups differ from a
// GROUP BY over the vehicles (a group missing on one side counts as zero
// there).
func rollupDrift(t *testing.T, db bun.IDB) []string {
	t.Helper()
	facets := `(SELECT v.*, f.facet, f.value FROM (SELECT dealer_id, make_id, model_id, status, fuel, condition,
	              coalesce(body_style, '') AS body_style, year, price_cents FROM vehicles) v
	            CROSS JOIN LATERAL (VALUES ('year', v.year::bigint), ('price', v.price_cents / 50000)%s) f(facet, value)) v`
	var out []string
	for _, r := range []struct{ table, key, from, sums string }{
		{"vehicle_rollup", "dealer_id, make_id, model_id, status, fuel, condition, body_style",
			"(SELECT dealer_id, make_id, model_id, status, fuel, condition, coalesce(body_style, '') AS body_style, price_cents FROM vehicles) v", ", sum(price_cents) AS price_cents"},
		{"vehicle_total_rollup", "make_id, model_id, status, fuel, condition, body_style",
			"(SELECT make_id, model_id, status, fuel, condition, coalesce(body_style, '') AS body_style, price_cents FROM vehicles) v", ", sum(price_cents) AS price_cents"},
		{"vehicle_color_rollup", "make_id, model_id, status, fuel, color, trim",
			"(SELECT make_id, model_id, status, fuel, coalesce(color, '') AS color, coalesce(trim, '') AS trim, price_cents FROM vehicles) v", ", sum(price_cents) AS price_cents"},
		{"vehicle_facet_rollup", "facet, dealer_id, make_id, model_id, status, fuel, condition, body_style, value",
			fmt.Sprintf(facets, ""), ", 0::bigint AS price_cents"},
		{"vehicle_facet_total_rollup", "facet, make_id, model_id, status, fuel, condition, body_style, value",
			fmt.Sprintf(facets, ", ('price_wide', v.price_cents / 500000)"), ", 0::bigint AS price_cents"},
	} {
		price := "price_cents"
		if strings.HasPrefix(r.table, "vehicle_facet") {
			price = "0"
		}
		var wrong int
		must(t, db.NewRaw(`
			SELECT count(*) FROM (SELECT *, `+price+` AS rolled_price FROM `+r.table+`) r
			FULL JOIN (SELECT `+r.key+`, count(*) AS vehicles`+r.sums+` FROM `+r.from+` GROUP BY `+r.key+`) g USING (`+r.key+`)
			WHERE coalesce(r.vehicles, 0) <> coalesce(g.vehicles, 0) OR coalesce(r.rolled_price, 0) <> coalesce(g.price_cents, 0)`).
			Scan(context.Background(), &wrong))
		if wrong > 0 {
			out = append(out, fmt.Sprintf("%s: %d groups", r.table, wrong))
		}
	}
	return out
}

func TestBulkLoadMatchesRowByRowInsert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// grown: 5,000 vehicles inserted row by row, then 20,000 more bulk
	// loaded (indexes dropped and rebuilt).
	grown := testdb.New(t, testdb.Empty)
	for _, comment := range []string{
		"COMMENT ON INDEX vehicles_year_id_idx IS 'keyset by year'",
		"COMMENT ON CONSTRAINT vehicles_dealer_id_fkey ON vehicles IS 'on a lot'",
		"COMMENT ON TRIGGER vehicle_rollup_inserted ON vehicles IS 'counts'",
	} {
		if _, err := grown.ExecContext(ctx, comment); err != nil {
			t.Fatal(err)
		}
	}
	before := indexes(t, grown)
	run(t, grown, seed.Options{Vehicles: 5000})
	if res := run(t, grown, seed.Options{Vehicles: 25000}); res.Vehicles != 20000 {
		t.Fatalf("inserted %d vehicles, want 20000", res.Vehicles)
	}
	if after := indexes(t, grown); !reflect.DeepEqual(before, after) {
		t.Fatalf("indexes changed:\n%q\n%q", before, after)
	}
	direct := testdb.New(t, testdb.Empty)
	if _, err := direct.ExecContext(ctx, "COMMENT ON CONSTRAINT vehicles_dealer_id_fkey ON vehicles IS 'on a lot'"); err != nil {
		t.Fatal(err)
	}
	before = indexes(t, direct)
	run(t, direct, seed.Options{Vehicles: 25000})
	if after := indexes(t, direct); !reflect.DeepEqual(before, after) {
		t.Fatalf("indexes changed by a load into an empty table:\n%q\n%q", before, after)
	}
	sameSnapshot(t, "5000 then 25000 vs 25000 at once", take(t, direct), take(t, grown))
	for name, db := range map[string]*bun.DB{"grown": grown, "direct": direct} {
		if drift := rollupDrift(t, db); len(drift) > 0 {
			t.Errorf("%s: rollups differ from the vehicles: %v", name, drift)
		}
		// The rollup triggers are back (indexes compares them): a vehicle
		// added after the seed counts too.
		if _, err := db.ExecContext(ctx, `INSERT INTO vehicles (vin, make_id, model_id, dealer_id, year, mileage_km, price_cents, fuel, condition)
			SELECT 'YS3AK35E7M1000001', make_id, model_id, dealer_id, 1991, 1000, 500000, 'GASOLINE', 'USED' FROM vehicles WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		if drift := rollupDrift(t, db); len(drift) > 0 {
			t.Errorf("%s: after an insert, rollups differ from the vehicles: %v", name, drift)
		}
	}

	// The rebuilt indexes work.
	var n int
	must(t, grown.NewRaw(`SELECT count(*) FROM vehicles WHERE vin ILIKE ?`, "%"+seed.VIN(24999)[9:]+"%").Scan(ctx, &n))
	if n != 1 {
		t.Fatalf("VIN search found %d vehicles, want 1", n)
	}
}

// A bulk load into a table holding a vehicle numbered by hand above the
// identity's next value numbers its rows below it, and still leaves every
// rollup exact.
func TestBulkLoadBelowAnIDGivenByHand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, testdb.Empty)
	run(t, db, seed.Options{})
	if _, err := db.ExecContext(ctx, `INSERT INTO vehicles (id, vin, make_id, model_id, dealer_id, year, mileage_km, price_cents, fuel)
		OVERRIDING SYSTEM VALUE
		SELECT 1000000000, 'YS3AK35E7M1000001', md.make_id, md.id, d.id, 1991, 1000, 500000, 'GASOLINE'
		FROM models md, dealers d ORDER BY md.id, d.id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	before := indexes(t, db)
	if res := run(t, db, seed.Options{Vehicles: 12000}); res.Vehicles != 12000 {
		t.Fatalf("inserted %d vehicles, want 12000", res.Vehicles)
	}
	if after := indexes(t, db); !reflect.DeepEqual(before, after) {
		t.Fatalf("indexes or triggers changed:\n%q\n%q", before, after)
	}
	if drift := rollupDrift(t, db); len(drift) > 0 {
		t.Errorf("rollups differ from the vehicles: %v", drift)
	}
}

// A demo vehicle whose stock number a vehicle listed through the API
// already uses on the same lot is still seeded, without a stock number.
func TestSeedLeavesOutAStockNumberTakenOnTheLot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var demo struct {
		DealerID    int64  `bun:"dealer_id"`
		StockNumber string `bun:"stock_number"`
	}
	reference := testdb.New(t, testdb.Empty)
	run(t, reference, seed.Options{Vehicles: 1501})
	must(t, reference.NewRaw("SELECT dealer_id, stock_number FROM vehicles WHERE vin = ?", seed.VIN(1500)).Scan(ctx, &demo))

	db := testdb.New(t, testdb.Empty)
	run(t, db, seed.Options{Vehicles: 1000})
	if _, err := db.ExecContext(ctx, `INSERT INTO vehicles (vin, make_id, model_id, dealer_id, year, mileage_km, price_cents, fuel, status, stock_number)
		SELECT '1HGCM82633A004352', md.make_id, md.id, ?, 2020, 0, 100, 'GASOLINE', 'AVAILABLE', ?
		FROM models md ORDER BY md.id LIMIT 1`, demo.DealerID, strings.ToLower(demo.StockNumber)); err != nil {
		t.Fatal(err)
	}
	if res := run(t, db, seed.Options{Vehicles: 2000}); res.Vehicles != 1000 {
		t.Fatalf("inserted %d vehicles, want 1000", res.Vehicles)
	}
	var missing []string
	must(t, db.NewRaw("SELECT vin FROM vehicles WHERE stock_number IS NULL").Scan(ctx, &missing))
	if len(missing) != 1 || missing[0] != seed.VIN(1500) {
		t.Fatalf("vehicles without a stock number: %v, want only demo vehicle 1500 (%s)", missing, seed.VIN(1500))
	}
}
