package graph

import (
	"strings"

	"github.com/carlot/carlot/internal/relay"
	"github.com/carlot/carlot/models"
)

// Bounds on a search string: enough for any real query, small enough that a
// search cannot become an expensive statement.
const (
	maxSearchLength = 100
	maxSearchWords  = 8
)

// vehicleFilter checks a VehicleFilter input and turns it into the models
// filter, recording every bad field in inv.
func vehicleFilter(in *VehicleFilter, inv *models.Invalid) *models.VehicleFilter {
	if in == nil {
		return nil
	}
	f := &models.VehicleFilter{
		MakeID:        globalID(in.MakeID, models.TypeMake, "filter.makeId", inv),
		ModelID:       globalID(in.ModelID, models.TypeModel, "filter.modelId", inv),
		DealerID:      globalID(in.DealerID, models.TypeDealer, "filter.dealerId", inv),
		Statuses:      in.Status,
		Fuels:         in.Fuel,
		YearMin:       in.YearMin,
		YearMax:       in.YearMax,
		MileageMaxKm:  in.MileageMaxKm,
		PriceMinCents: widen(in.PriceMinCents),
		PriceMaxCents: widen(in.PriceMaxCents),
		Conditions:    in.Condition,
		BodyStyles:    in.BodyStyle,
		Transmissions: in.Transmission,
		Drivetrains:   in.Drivetrain,
	}
	if in.StockNumber != nil {
		sn := strings.TrimSpace(*in.StockNumber)
		switch {
		case strings.ContainsRune(sn, 0):
			inv.Add("filter.stockNumber", "must not contain NUL characters")
		case len([]rune(sn)) > models.MaxStockNumberLength:
			inv.Add("filter.stockNumber", "must be at most %d characters", models.MaxStockNumberLength)
		default:
			f.StockNumber = &sn
		}
	}
	if in.Search != nil {
		f.SearchWords = searchWords(*in.Search, inv)
	}
	if in.Near != nil {
		near := *in.Near
		near.Check("filter.near", inv)
		f.Near = &near
	}
	return f
}

func searchWords(s string, inv *models.Invalid) []string {
	switch {
	case strings.ContainsRune(s, 0):
		inv.Add("filter.search", "must not contain NUL characters")
		return nil
	case len([]rune(s)) > maxSearchLength:
		inv.Add("filter.search", "must be at most %d characters", maxSearchLength)
		return nil
	}
	words := strings.Fields(s)
	if len(words) > maxSearchWords {
		inv.Add("filter.search", "must be at most %d words", maxSearchWords)
		return nil
	}
	return words
}

// globalID decodes an optional global ID argument that must name a typ.
func globalID(id *string, typ, field string, inv *models.Invalid) *int64 {
	if id == nil {
		return nil
	}
	n, ok := decodeID(*id, typ)
	if !ok {
		inv.Add(field, "is not a valid %s ID", typ)
		return nil
	}
	return &n
}

// decodeID returns the database id inside a global ID of type typ.
func decodeID(id, typ string) (int64, bool) {
	t, n, err := relay.ParseNodeID(id)
	return n, err == nil && t == typ
}

func widen(v *int) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}
