package models

import (
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
