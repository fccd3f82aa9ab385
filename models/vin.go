package models

import "strings"

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
