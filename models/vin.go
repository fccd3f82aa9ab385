package models

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// VINLength is the length of every modern vehicle identification number.
const VINLength = 17

// vinValues transliterates VIN characters for the ISO 3779 / 49 CFR 565
// check digit. I, O and Q never appear in a VIN (they read as 1 and 0).
var vinValues = [256]int8{}

var vinWeights = [VINLength]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}

func init() {
	for i := range vinValues {
		vinValues[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		vinValues[c] = int8(c - '0')
	}
	for i, c := range "ABCDEFGH" {
		vinValues[c] = int8(i + 1)
	}
	for i, c := range "JKLMN" {
		vinValues[c] = int8(i + 1)
	}
	vinValues['P'], vinValues['R'] = 7, 9
	for i, c := range "STUVWXYZ" {
		vinValues[c] = int8(i + 2)
	}
}

// NormalizeVIN trims spaces and upper-cases a VIN as people type it.
func NormalizeVIN(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// VINProblem says what is wrong with a normalized VIN, or returns "" when it
// is valid: 17 characters from the VIN alphabet with a correct check digit.
func VINProblem(vin string) string {
	if len(vin) != VINLength {
		return "must be 17 characters"
	}
	if !VINShaped(vin) {
		return "may contain only digits and the letters A-Z except I, O and Q"
	}
	if CheckDigit(vin) != vin[8] {
		return "check digit (9th character) does not match"
	}
	return ""
}

// VINShaped reports whether vin has 17 characters from the VIN alphabet,
// whatever its check digit.
func VINShaped(vin string) bool {
	if len(vin) != VINLength {
		return false
	}
	for i := 0; i < len(vin); i++ {
		if vinValues[vin[i]] < 0 {
			return false
		}
	}
	return true
}

// CheckDigit computes the check digit (the 9th character) of a VIN whose
// characters are all in the VIN alphabet.
func CheckDigit(vin string) byte {
	sum := 0
	for i := 0; i < VINLength; i++ {
		sum += int(vinValues[vin[i]]) * vinWeights[i]
	}
	if r := sum % 11; r < 10 {
		return byte('0' + r)
	}
	return 'X'
}

// VINFaultCode says which rule a VIN breaks.
type VINFaultCode string

// The rules a VIN must keep to be valid in Carlot.
const (
	// VINFaultLength: a VIN has exactly 17 characters.
	VINFaultLength VINFaultCode = "LENGTH"
	// VINFaultCharacters: digits and the letters A-Z except I, O and Q only.
	VINFaultCharacters VINFaultCode = "CHARACTERS"
	// VINFaultCheckDigit: the 9th character is the ISO 3779 check digit of
	// the others.
	VINFaultCheckDigit VINFaultCode = "CHECK_DIGIT"
)

// VINFault is one rule a VIN breaks, with a message for people.
type VINFault struct {
	Code    VINFaultCode
	Message string
}

// VINInfo is what a VIN says about itself, read without any lookup beyond
// the tables shipped in the binary. A part the VIN does not reliably carry
// is nil: positions mean nothing in a VIN of the wrong length, so only the
// WMI is read from one; a part containing a character outside the VIN
// alphabet is left out.
type VINInfo struct {
	// VIN is the input as decoded: trimmed and upper-cased.
	VIN string
	// Valid is true when Carlot would accept the VIN for a vehicle: 17
	// characters from the VIN alphabet with a correct check digit.
	Valid bool
	// Faults lists every rule the VIN breaks; empty when Valid.
	Faults []VINFault
	// WMI is the world manufacturer identifier, positions 1-3.
	WMI *string
	// Manufacturer is the make behind the WMI (or the company, where makes
	// share one); nil when the WMI is not in Carlot's table.
	Manufacturer *string
	// Country is the country the WMI is assigned to.
	Country *string
	// VDS is the vehicle descriptor section, positions 4-8: the maker's
	// code for model, body, engine and restraints.
	VDS *string
	// ModelYear is read from position 10.
	ModelYear *int
	// PlantCode is the maker's code for the assembly plant, position 11.
	PlantCode *string
	// Serial is the production sequence number, positions 12-17.
	Serial *string
}

// vinYearCodes are the model year codes of position 10 in order from 1980
// (A) to 2009 (9); the cycle repeats every 30 years from 2010. I, O, Q, U, Z
// and 0 are never year codes.
const vinYearCodes = "ABCDEFGHJKLMNPRSTVWXY123456789"

// DecodeVIN reads what a VIN says about itself, as of today.
func DecodeVIN(vin string) VINInfo {
	return DecodeVINAt(vin, time.Now())
}

// DecodeVINAt reads what a VIN says about itself, as of now: model years
// later than next year's are not yet possible.
func DecodeVINAt(vin string, now time.Time) VINInfo {
	vin = NormalizeVIN(vin)
	info := VINInfo{VIN: vin}
	// shaped reports whether vin[from:to] is all VIN alphabet.
	shaped := func(from, to int) bool {
		if len(vin) < to {
			return false
		}
		for i := from; i < to; i++ {
			if vinValues[vin[i]] < 0 {
				return false
			}
		}
		return true
	}
	part := func(from, to int) *string {
		if !shaped(from, to) {
			return nil
		}
		s := vin[from:to]
		return &s
	}

	if len(vin) != VINLength {
		info.Faults = append(info.Faults, VINFault{VINFaultLength,
			fmt.Sprintf("must be 17 characters, not %d", utf8.RuneCountInString(vin))})
	}
	if !shaped(0, len(vin)) {
		info.Faults = append(info.Faults, VINFault{VINFaultCharacters,
			"may contain only digits and the letters A-Z except I, O and Q"})
	} else if len(vin) == VINLength {
		if want := CheckDigit(vin); want != vin[8] {
			info.Faults = append(info.Faults, VINFault{VINFaultCheckDigit,
				fmt.Sprintf("check digit (9th character) is %c, but the other characters make it %c", vin[8], want)})
		}
	}
	info.Valid = len(info.Faults) == 0

	if info.WMI = part(0, 3); info.WMI != nil {
		if m, ok := wmiManufacturers[*info.WMI]; ok {
			info.Manufacturer = &m
		}
		if c := wmiCountry(*info.WMI); c != "" {
			info.Country = &c
		}
	}
	if len(vin) != VINLength {
		return info
	}
	info.VDS = part(3, 8)
	info.ModelYear = modelYear(vin, now.Year()+1)
	info.PlantCode = part(10, 11)
	info.Serial = part(11, 17)
	return info
}

// modelYear reads position 10 the way NHTSA does for light vehicles
// (49 CFR part 565): the code repeats every 30 years, and position 7 tells
// the cycles apart, a digit for 1980-2009 and a letter for 2010-2039. A
// year after latest cannot be a built vehicle's yet, so it falls back to
// the earlier cycle (makers outside North America used letters in
// position 7 before 2010).
func modelYear(vin string, latest int) *int {
	i := strings.IndexByte(vinYearCodes, vin[9])
	if i < 0 || vinValues[vin[6]] < 0 {
		return nil
	}
	year := 1980 + i
	if c := vin[6]; c >= 'A' && c <= 'Z' {
		year += 30
	}
	if year > latest && year-30 >= 1980 {
		year -= 30
	}
	return &year
}
