package models

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// The mileage column is 32 bits: a larger mileage is a bad input field,
// whoever calls, never an error of the database.
func TestMileageBeyondItsColumnIsABadField(t *testing.T) {
	t.Parallel()
	km := MaxMileageKm + 1
	for name, check := range map[string]func(*Invalid){
		"patch": func(inv *Invalid) { VehiclePatch{MileageKm: &km}.Check(inv) },
		"new":   func(inv *Invalid) { NewVehicle{MileageKm: km}.Check(inv) },
	} {
		t.Run(name, func(t *testing.T) {
			var inv Invalid
			check(&inv)
			var e *Error
			if !errors.As(inv.Err(), &e) || e.Code != CodeBadUserInput || !slices.ContainsFunc(e.Fields, func(f FieldError) bool { return f.Field == "mileageKm" }) {
				t.Errorf("%s: %v, want BAD_USER_INPUT on mileageKm", name, inv.Err())
			}
		})
	}
}

// Events written before vehicles had listing details read back as the
// migration that added them left every vehicle: USED, in stock since it
// was listed, without features.
func TestSnapshotsFromBeforeTheListingDetails(t *testing.T) {
	t.Parallel()
	var v Vehicle
	old := `{"id":7,"vin":"1HGCM82633A004352","year":2019,"color":"Red","mileage_km":1,"price_cents":2,"fuel":"GASOLINE",` +
		`"status":"SOLD","version":3,"created_at":"2025-03-04T05:06:07Z","updated_at":"2025-03-05T05:06:07Z"}`
	if err := json.Unmarshal([]byte(old), &v); err != nil {
		t.Fatal(err)
	}
	if v.Condition != ConditionUsed || !v.InStockSince.Equal(v.CreatedAt) || v.Features == nil || len(v.Features) != 0 ||
		v.StockNumber != nil || v.VIN != "1HGCM82633A004352" || v.Version != 3 {
		t.Fatalf("old snapshot read as %+v", v)
	}
	// A snapshot with the details keeps them.
	v.Condition, v.Features, v.InStockSince = ConditionNew, []string{"Sunroof"}, v.CreatedAt.AddDate(0, 0, -9)
	b, err := json.Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	var back Vehicle
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Condition != ConditionNew || !slices.Equal(back.Features, []string{"Sunroof"}) || !back.InStockSince.Equal(v.InStockSince) {
		t.Fatalf("snapshot read back as %+v", back)
	}
}
