package models_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/carlot/carlot/models"
)

// decodeNow is the day the expectations below hold on: model years up to
// 2027 are possible.
var decodeNow = time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)

// Published VINs of real vehicles, with the year and maker they were built
// with. Every check digit was recomputed by hand with the ISO 3779 weights.
func TestDecodeVINReadsRealVINs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, vin, manufacturer, country string
		year                             int
		vds, plant, serial               string
	}{
		{"2003 Honda Accord from Ohio", "1HGCM82633A004352", "Honda", "United States", 2003, "CM826", "A", "004352"},
		{"1993 Acura Legend from Japan", "JH4KA7561PC008269", "Acura", "Japan", 1993, "KA756", "C", "008269"},
		{"2004 Volkswagen from Mexico", "3VWFE21C04M000001", "Volkswagen", "Mexico", 2004, "FE21C", "M", "000001"},
		{"2005 Nissan Altima", "1N4AL11D75C109151", "Nissan", "United States", 2005, "AL11D", "C", "109151"},
		{"2003 Chevrolet Tahoe, check digit X", "1GNEK13ZX3R298984", "Chevrolet", "United States", 2003, "EK13Z", "R", "298984"},
		{"2001 Chevrolet Cavalier", "1G1JC524417418958", "Chevrolet", "United States", 2001, "JC524", "7", "418958"},
		{"2015 Jeep Grand Cherokee: a letter in position 7 means 2010 on", "1C4RJFAG0FC625797", "FCA US", "United States", 2015, "RJFAG", "C", "625797"},
		{"2002 Aston Martin from England", "SCFAC23302B500083", "Aston Martin", "United Kingdom", 2002, "AC233", "B", "500083"},
		{"2002 Kia from Korea", "KNDJB723025140702", "Kia", "South Korea", 2002, "JB723", "5", "140702"},
		{"1989 MCI coach, the usual check digit example", "1M8GDM9AXKP042788", "Motor Coach Industries", "United States", 1989, "GDM9A", "P", "042788"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := models.DecodeVINAt(tc.vin, decodeNow)
			if !got.Valid || len(got.Faults) != 0 {
				t.Fatalf("valid = %v, faults %v", got.Valid, got.Faults)
			}
			want := models.VINInfo{
				VIN: tc.vin, Valid: true, WMI: ptr(tc.vin[:3]), Manufacturer: ptr(tc.manufacturer), Country: ptr(tc.country),
				VDS: ptr(tc.vds), ModelYear: ptr(tc.year), PlantCode: ptr(tc.plant), Serial: ptr(tc.serial),
			}
			assertVINInfo(t, got, want)
		})
	}
}

func TestDecodeVINSaysWhatIsWrongAndWhatIsKnown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, vin string
		faults    []models.VINFaultCode
		want      models.VINInfo
	}{
		{
			// A European VIN: Europe needs no check digit, Carlot does.
			"1996 Porsche 911 with a European filler for a check digit", "WP0ZZZ99ZTS392124",
			[]models.VINFaultCode{models.VINFaultCheckDigit},
			models.VINInfo{WMI: ptr("WP0"), Manufacturer: ptr("Porsche"), Country: ptr("Germany"),
				VDS: ptr("ZZZ99"), ModelYear: ptr(1996), PlantCode: ptr("S"), Serial: ptr("392124")},
		},
		{
			"one character mistyped", "1HGCM82633A004353",
			[]models.VINFaultCode{models.VINFaultCheckDigit},
			models.VINInfo{WMI: ptr("1HG"), Manufacturer: ptr("Honda"), Country: ptr("United States"),
				VDS: ptr("CM826"), ModelYear: ptr(2003), PlantCode: ptr("A"), Serial: ptr("004353")},
		},
		{
			"lower case and spaces are read as typed in", "  1hgcm82633a004352 ",
			nil,
			models.VINInfo{WMI: ptr("1HG"), Manufacturer: ptr("Honda"), Country: ptr("United States"),
				VDS: ptr("CM826"), ModelYear: ptr(2003), PlantCode: ptr("A"), Serial: ptr("004352")},
		},
		{
			"a letter O in the serial", "1HGCM82633A0O4352",
			[]models.VINFaultCode{models.VINFaultCharacters},
			models.VINInfo{WMI: ptr("1HG"), Manufacturer: ptr("Honda"), Country: ptr("United States"),
				VDS: ptr("CM826"), ModelYear: ptr(2003), PlantCode: ptr("A")},
		},
		{
			"I and Q in the descriptor", "1HGCI82Q33A004352",
			[]models.VINFaultCode{models.VINFaultCharacters},
			models.VINInfo{WMI: ptr("1HG"), Manufacturer: ptr("Honda"), Country: ptr("United States"),
				ModelYear: ptr(2003), PlantCode: ptr("A"), Serial: ptr("004352")},
		},
		{
			"a character dropped: only the WMI means anything", "1HGCM8263A004352",
			[]models.VINFaultCode{models.VINFaultLength},
			models.VINInfo{WMI: ptr("1HG"), Manufacturer: ptr("Honda"), Country: ptr("United States")},
		},
		{
			"too long and with a bad character", "JH4KA7561PC008269-X",
			[]models.VINFaultCode{models.VINFaultLength, models.VINFaultCharacters},
			models.VINInfo{WMI: ptr("JH4"), Manufacturer: ptr("Acura"), Country: ptr("Japan")},
		},
		{"empty", "", []models.VINFaultCode{models.VINFaultLength}, models.VINInfo{}},
		{"NUL", "1HG\x00", []models.VINFaultCode{models.VINFaultLength, models.VINFaultCharacters},
			models.VINInfo{WMI: ptr("1HG"), Manufacturer: ptr("Honda"), Country: ptr("United States")}},
		{
			"a WMI Carlot does not know still has its country", "1Z1CM82633A004352",
			[]models.VINFaultCode{models.VINFaultCheckDigit},
			models.VINInfo{WMI: ptr("1Z1"), Country: ptr("United States"),
				VDS: ptr("CM826"), ModelYear: ptr(2003), PlantCode: ptr("A"), Serial: ptr("004352")},
		},
		{
			"U, Z and 0 are never model years", "1HGCM8263UA004352",
			[]models.VINFaultCode{models.VINFaultCheckDigit},
			models.VINInfo{WMI: ptr("1HG"), Manufacturer: ptr("Honda"), Country: ptr("United States"),
				VDS: ptr("CM826"), PlantCode: ptr("A"), Serial: ptr("004352")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := models.DecodeVINAt(tc.vin, decodeNow)
			var codes []models.VINFaultCode
			for _, f := range got.Faults {
				if f.Message == "" {
					t.Errorf("fault %s has no message", f.Code)
				}
				codes = append(codes, f.Code)
			}
			if !slices.Equal(codes, tc.faults) {
				t.Errorf("faults = %v, want %v", codes, tc.faults)
			}
			if got.Valid != (len(tc.faults) == 0) {
				t.Errorf("valid = %v with faults %v", got.Valid, codes)
			}
			tc.want.VIN, tc.want.Valid = models.NormalizeVIN(tc.vin), len(tc.faults) == 0
			assertVINInfo(t, got, tc.want)
		})
	}
}

// Position 7 chooses between two 30-year cycles, and a year that cannot
// have been built yet falls back to the earlier one.
func TestDecodeVINModelYearCycles(t *testing.T) {
	t.Parallel()
	// Made-up VINs with correct check digits, differing only in positions 7 and 10.
	for _, tc := range []struct {
		position7, position10 byte
		want                  int
	}{
		{'5', 'A', 1980}, {'5', 'Y', 2000}, {'5', '1', 2001}, {'5', '9', 2009},
		{'A', 'A', 2010}, {'A', 'L', 2020}, {'A', 'T', 2026}, {'A', 'V', 2027},
		// 2028 and 2031 are after next year: the earlier cycle's 1998 and 2001.
		{'A', 'W', 1998}, {'A', '1', 2001},
	} {
		t.Run(fmt.Sprintf("%c%c", tc.position7, tc.position10), func(t *testing.T) {
			vin := []byte("1HGCM82603A004352")
			vin[6], vin[9] = tc.position7, tc.position10
			vin[8] = models.CheckDigit(string(vin))
			got := models.DecodeVINAt(string(vin), decodeNow)
			if !got.Valid || got.ModelYear == nil || *got.ModelYear != tc.want {
				t.Errorf("%s: valid %v, model year %v, want %d", vin, got.Valid, deref(got.ModelYear), tc.want)
			}
		})
	}
	// Next year's models are on sale this year.
	vin := []byte("1HGCM82603A004352")
	vin[6], vin[9] = 'A', 'W'
	vin[8] = models.CheckDigit(string(vin))
	if got := models.DecodeVINAt(string(vin), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); deref(got.ModelYear) != 2028 {
		t.Errorf("W in 2027: model year %v, want 2028", deref(got.ModelYear))
	}
}

// Every WMI in the table names a maker and falls in a country range.
func TestDecodeVINKnowsACountryForEveryKnownWMI(t *testing.T) {
	t.Parallel()
	for _, wmi := range models.KnownWMIs() {
		info := models.DecodeVINAt(wmi+"00000000000000", decodeNow)
		if info.Manufacturer == nil || *info.Manufacturer == "" {
			t.Errorf("%s: no manufacturer", wmi)
		}
		if info.Country == nil {
			t.Errorf("%s: no country", wmi)
		}
	}
}

func assertVINInfo(t *testing.T, got, want models.VINInfo) {
	t.Helper()
	if got.VIN != want.VIN || got.Valid != want.Valid {
		t.Errorf("vin %q valid %v, want %q %v", got.VIN, got.Valid, want.VIN, want.Valid)
	}
	for _, f := range []struct {
		name      string
		got, want *string
	}{
		{"wmi", got.WMI, want.WMI}, {"manufacturer", got.Manufacturer, want.Manufacturer},
		{"country", got.Country, want.Country}, {"vds", got.VDS, want.VDS},
		{"plantCode", got.PlantCode, want.PlantCode}, {"serial", got.Serial, want.Serial},
	} {
		t.Run(f.name, func(t *testing.T) {
			if deref(f.got) != deref(f.want) {
				t.Errorf("%s = %v, want %v", f.name, deref(f.got), deref(f.want))
			}
		})
	}
	if deref(got.ModelYear) != deref(want.ModelYear) {
		t.Errorf("modelYear = %v, want %v", deref(got.ModelYear), deref(want.ModelYear))
	}
}

func ptr[T any](v T) *T { return &v }

// deref shows a pointer's value, or nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
