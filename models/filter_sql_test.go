package models

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The SQL a filter writes is what lets PostgreSQL use the indexes: one
// status or fuel is a plain equality (PostgreSQL 15 reads an index in
// order under "=" but not under "= ANY"), a stock number is compared as
// its indexes hold it, and a resolved search word ORs five conditions that
// each have an index.
func TestFilterSQLUsesIndexableConditions(t *testing.T) {
	// Only the SQL text is wanted: the database is never connected to.
	db := bun.NewDB(sql.OpenDB(stdlib.GetConnector(pgxConfig(t))), pgdialect.New())
	t.Cleanup(func() { _ = db.Close() })
	for _, tc := range []struct {
		name   string
		filter VehicleFilter
		want   string
	}{
		{"one status", VehicleFilter{Statuses: []VehicleStatus{StatusAvailable}}, `v.status = 'AVAILABLE'`},
		{"one fuel", VehicleFilter{Fuels: []FuelType{FuelElectric}}, `v.fuel = 'ELECTRIC'`},
		{"two fuels", VehicleFilter{Fuels: []FuelType{FuelElectric, FuelHybrid}}, `v.fuel = ANY('{"ELECTRIC","HYBRID"}')`},
		{"resolved word", VehicleFilter{SearchWords: []string{"50%"}, Search: []SearchTerm{{Word: "50%", Pattern: ContainsPattern("50%"), ModelIDs: []int64{3, 7}}}},
			`(v.vin ILIKE '%50\%%' OR v.color ILIKE '%50\%%' OR v.trim ILIKE '%50\%%' OR v.stock_number ILIKE '%50\%%' OR v.model_id = ANY('{3,7}'))`},
		{"one condition", VehicleFilter{Conditions: []VehicleCondition{ConditionCertified}}, `v.condition = 'CERTIFIED'`},
		{"body styles", VehicleFilter{BodyStyles: []BodyStyle{BodySUV, BodyVan}}, `v.body_style = ANY('{"SUV","VAN"}')`},
		{"transmission", VehicleFilter{Transmissions: []Transmission{TransmissionManual}}, `v.transmission = 'MANUAL'`},
		{"drivetrain", VehicleFilter{Drivetrains: []Drivetrain{DrivetrainFourWD}}, `v.drivetrain = 'FOUR_WD'`},
		{"stock number", VehicleFilter{StockNumber: ptrTo("u-1")}, `lower(v.stock_number) = lower('u-1')`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.filter.apply(db.NewSelect().Model((*Vehicle)(nil))).String()
			if !strings.Contains(got, tc.want) {
				t.Fatalf("SQL %s\ndoes not contain %s", got, tc.want)
			}
		})
	}
}

func pgxConfig(t *testing.T) pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://test@127.0.0.1:1/none?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	return *cfg
}

// A word that cannot occur in any VIN needs no VIN probe: VINs hold only
// digits and the letters A-Z but I, O and Q, so any other ASCII character,
// in either case, rules a word out; other characters are left to the
// database's case folding.
func TestCouldBeInVIN(t *testing.T) {
	for word, want := range map[string]bool{
		"1hgcm8": true, "JTD": true, "red": true, "tesla": true,
		"ford": false, "civic": false, "q": false, "Q": false, "a-b": false, "50%": false, "a_b": false,
		"12345678901234567": true, "123456789012345678": false, "ſ": true,
	} {
		t.Run(word, func(t *testing.T) {
			if got := couldBeInVIN(word); got != want {
				t.Errorf("couldBeInVIN(%q) = %v, want %v", word, got, want)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
