package models

import (
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// benchFilters are a bare page, a dealer's lot and a busy search form.
var benchFilters = map[string]VehicleQuery{
	"none": {Order: DefaultVehicleOrder, Limit: 21},
	"dealer": {
		Filter: &VehicleFilter{DealerID: ptr[int64](7)},
		Order:  VehicleOrder{Field: OrderByPrice, Direction: Ascending}, Limit: 51,
		After: &VehiclePosition{Key: int64(2_399_900), ID: 4242},
	},
	"everything": {
		Filter: &VehicleFilter{
			MakeID: ptr[int64](3), Statuses: []VehicleStatus{StatusAvailable, StatusReserved},
			Fuels: []FuelType{FuelHybrid, FuelElectric}, YearMin: ptr(2015), YearMax: ptr(2024),
			PriceMinCents: ptr[int64](1_000_000), PriceMaxCents: ptr[int64](5_000_000), MileageMaxKm: ptr(80_000),
			SearchWords: []string{"toyota", "blue"},
		},
		Order: DefaultVehicleOrder, Limit: 101,
		After: &VehiclePosition{Key: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ID: 99},
	},
}

// BenchmarkVehicleFilterMatches measures the in-memory form of the same
// filter, which every subscription runs on every event.
func BenchmarkVehicleFilterMatches(b *testing.B) {
	v := &Vehicle{ID: 1, VIN: "1HGCM82633A004352", MakeID: 3, ModelID: 15, DealerID: 7, Year: 2020,
		Color: ptr("Blue"), MileageKm: 40_000, PriceCents: 2_000_000, Fuel: FuelHybrid, Status: StatusAvailable}
	names := func(int64, int64) (string, string) { return "Toyota", "Prius" }
	for name, q := range benchFilters {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q.Filter.Matches(v, names)
			}
		})
	}
}
