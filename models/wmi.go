package models

// The world manufacturer identifier (WMI, VIN positions 1-3) tables that
// DecodeVIN reads. They ship in the binary so decoding needs no network and
// no database: a few hundred of the most common WMIs, and the ISO 3780
// country ranges that the first two characters fall in.

// wmiManufacturers names the maker behind a WMI: the make when the WMI
// belongs to one make (spelled as Carlot's catalog spells it, so a client
// can match it against makes), otherwise the company that holds it.
var wmiManufacturers = map[string]string{
	// United States (1, 4, 5, 7).
	"1B3": "Dodge", "1B4": "Dodge", "1B7": "Dodge", "1D3": "Dodge", "1D4": "Dodge", "1D7": "Dodge",
	"1C3": "FCA US", "1C4": "FCA US", "1C6": "Ram",
	"1J4": "Jeep", "1J8": "Jeep",
	"1FA": "Ford", "1FB": "Ford", "1FC": "Ford", "1FD": "Ford", "1FM": "Ford", "1FT": "Ford",
	"1FU": "Freightliner", "1FV": "Freightliner",
	"1LN": "Lincoln", "1ME": "Mercury",
	"1G1": "Chevrolet", "1GC": "Chevrolet", "1GN": "Chevrolet", "1GB": "Chevrolet",
	"1G2": "Pontiac", "1GM": "Pontiac", "1G3": "Oldsmobile", "1G4": "Buick",
	"1G6": "Cadillac", "1GY": "Cadillac", "1G8": "Saturn",
	"1GD": "GMC", "1GK": "GMC", "1GT": "GMC",
	"1HG": "Honda", "19X": "Honda", "19U": "Acura",
	"1HD": "Harley-Davidson",
	"1N4": "Nissan", "1N6": "Nissan",
	"1NX": "Toyota", "1YV": "Mazda", "1ZV": "Ford",
	"1VW": "Volkswagen",
	"1M1": "Mack", "1M2": "Mack", "1M8": "Motor Coach Industries",
	"1XK": "Kenworth", "1XP": "Peterbilt", "1NK": "Kenworth", "1NP": "Peterbilt",
	"4JG": "Mercedes-Benz", "4S3": "Subaru", "4S4": "Subaru",
	"4T1": "Toyota", "4T3": "Toyota",
	"4US": "BMW", "4UZ": "Freightliner", "4V4": "Volvo Trucks",
	"4M2": "Mercury", "4F2": "Mazda", "4F4": "Mazda",
	"5FN": "Honda", "5J6": "Honda", "5J8": "Acura",
	"5GA": "Buick", "5GZ": "Saturn",
	"5LM": "Lincoln", "5LT": "Lincoln",
	"5N1": "Nissan", "5NP": "Hyundai", "5NM": "Hyundai", "5XY": "Hyundai Motor Group",
	"5TD": "Toyota", "5TF": "Toyota", "5TB": "Toyota", "5YF": "Toyota",
	"5UX": "BMW", "5UM": "BMW", "5YM": "BMW",
	"5YJ": "Tesla", "7SA": "Tesla", "7G2": "Tesla",
	"7FA": "Honda", "7FC": "Rivian", "7PD": "Rivian", "50E": "Lucid",

	// Canada (2).
	"2A4": "Chrysler", "2A8": "Chrysler", "2C3": "FCA US", "2C4": "FCA US", "2D3": "Dodge",
	"2FA": "Ford", "2FM": "Ford", "2FT": "Ford", "2LM": "Lincoln",
	"2G1": "Chevrolet", "2GN": "Chevrolet", "2GC": "Chevrolet", "2G2": "Pontiac", "2G4": "Buick", "2GT": "GMC",
	"2HG": "Honda", "2HK": "Honda", "2HJ": "Honda", "2HN": "Acura", "2HH": "Acura",
	"2T1": "Toyota", "2T2": "Lexus", "2T3": "Toyota",

	// Mexico (3A-3W).
	"3C4": "FCA US", "3C6": "Ram", "3C7": "Ram", "3D7": "Dodge",
	"3FA": "Ford", "3FE": "Ford", "3FT": "Ford", "3FM": "Ford",
	"3G1": "Chevrolet", "3GN": "Chevrolet", "3GC": "Chevrolet", "3GT": "GMC", "3GY": "Cadillac",
	"3HG": "Honda", "3CZ": "Honda",
	"3KP": "Kia", "3MZ": "Mazda", "3MV": "Mazda", "3MW": "BMW",
	"3N1": "Nissan", "3N6": "Nissan", "3N8": "Nissan",
	"3TM": "Toyota", "3TY": "Toyota",
	"3VW": "Volkswagen", "3VV": "Volkswagen",

	// Japan (J).
	"JA3": "Mitsubishi", "JA4": "Mitsubishi", "JMB": "Mitsubishi",
	"JAA": "Isuzu", "JAL": "Isuzu",
	"JF1": "Subaru", "JF2": "Subaru",
	"JH2": "Honda", "JHM": "Honda", "JHL": "Honda", "JH4": "Acura",
	"JKA": "Kawasaki", "JKB": "Kawasaki",
	"JM1": "Mazda", "JM3": "Mazda", "JMZ": "Mazda",
	"JN1": "Nissan", "JN8": "Nissan", "JNK": "Infiniti", "JNR": "Infiniti",
	"JS1": "Suzuki", "JS2": "Suzuki", "JS3": "Suzuki",
	"JT2": "Toyota", "JT3": "Toyota", "JT4": "Toyota", "JTD": "Toyota", "JTE": "Toyota", "JTK": "Toyota",
	"JTL": "Toyota", "JTM": "Toyota", "JTN": "Toyota",
	"JT6": "Lexus", "JT8": "Lexus", "JTH": "Lexus", "JTJ": "Lexus",
	"JYA": "Yamaha",

	// South Korea (KL-KR).
	"KL1": "Chevrolet", "KL4": "Buick", "KL7": "Chevrolet", "KL8": "Chevrolet", "KLA": "Daewoo",
	"KMH": "Hyundai", "KM8": "Hyundai", "KMT": "Genesis",
	"KNA": "Kia", "KNC": "Kia", "KND": "Kia",
	"KNM": "Renault Samsung", "KPT": "SsangYong",

	// China (L).
	"LBV": "BMW", "LE4": "Mercedes-Benz", "LFV": "Volkswagen", "LSV": "Volkswagen",
	"LRW": "Tesla", "LYV": "Volvo", "LVY": "Volvo", "LPS": "Polestar",
	"LGX": "BYD", "LC0": "BYD", "LGW": "Great Wall", "LVV": "Chery", "LB3": "Geely", "L6T": "Geely",
	"LSG": "SAIC-GM", "LSJ": "MG", "LZW": "SAIC-GM-Wuling",
	"LHG": "Honda", "LVH": "Honda", "LVG": "Toyota", "LFM": "Toyota", "LTV": "Toyota",
	"LGB": "Nissan", "LVS": "Ford", "LBE": "Hyundai", "LJD": "Kia",
	"LRB": "Buick", "LNB": "BAIC", "LMG": "GAC", "LDC": "Dongfeng Peugeot-Citroën",

	// India, Indonesia, Thailand, Turkey, Taiwan (M, N, R).
	"MA1": "Mahindra", "MA3": "Suzuki", "MAJ": "Ford", "MAK": "Honda", "MAL": "Hyundai", "MAT": "Tata",
	"MBH": "Suzuki", "MBJ": "Toyota", "MEE": "Renault",
	"MHF": "Toyota", "MHR": "Honda", "MHK": "Daihatsu",
	"MMB": "Mitsubishi", "MMC": "Mitsubishi", "MMM": "Chevrolet", "MNB": "Ford", "MNT": "Nissan",
	"MPA": "Isuzu", "MR0": "Toyota", "MRH": "Honda", "ML3": "Mitsubishi",
	"NLA": "Honda", "NLE": "Mercedes-Benz", "NM0": "Ford", "NM4": "Tofaş", "NMT": "Toyota",
	"RFB": "Kymco", "RFG": "SYM",

	// United Kingdom (SA-SM).
	"SAJ": "Jaguar", "SAD": "Jaguar", "SAL": "Land Rover", "SAR": "Rover", "SAX": "Austin Rover",
	"SCA": "Rolls-Royce", "SCB": "Bentley", "SCC": "Lotus", "SCE": "DeLorean", "SCF": "Aston Martin",
	"SBM": "McLaren", "SB1": "Toyota", "SFA": "Ford", "SHH": "Honda", "SHS": "Honda",
	"SJN": "Nissan", "SMT": "Triumph",

	// Poland, Switzerland, Czech Republic, Hungary, Portugal (SU-T).
	"SUF": "Fiat", "SUP": "FSO", "SUU": "Solaris",
	"TMA": "Hyundai", "TMB": "Škoda", "TMT": "Tatra",
	"TRU": "Audi", "TSM": "Suzuki",

	// Romania (U).
	"UU1": "Dacia",

	// Austria, France, Spain (V).
	"VBK": "KTM",
	"VF1": "Renault", "VF3": "Peugeot", "VF6": "Renault Trucks",
	"VF7": "Citroën", "VF9": "Bugatti",
	"VR1": "DS", "VR3": "Peugeot", "VR7": "Citroën", "VNK": "Toyota",
	"VSS": "SEAT", "VSK": "Nissan", "VS6": "Ford", "VS7": "Citroën", "VSX": "Opel", "VWV": "Volkswagen",

	// Germany (W).
	"WAU": "Audi", "WA1": "Audi", "WUA": "Audi",
	"WBA": "BMW", "WBS": "BMW", "WBX": "BMW", "WBY": "BMW", "WB1": "BMW", "WMW": "MINI",
	"WDB": "Mercedes-Benz", "WDC": "Mercedes-Benz", "WDD": "Mercedes-Benz", "WDF": "Mercedes-Benz",
	"WMX": "Mercedes-Benz", "W1K": "Mercedes-Benz", "W1N": "Mercedes-Benz", "W1V": "Mercedes-Benz",
	"W1W": "Mercedes-Benz", "W1Y": "Mercedes-Benz",
	"WME": "smart", "WF0": "Ford", "WMA": "MAN",
	"WP0": "Porsche", "WP1": "Porsche",
	"WVW": "Volkswagen", "WVG": "Volkswagen", "WV1": "Volkswagen", "WV2": "Volkswagen", "WV3": "Volkswagen",
	"W0L": "Opel", "W0V": "Opel",

	// Russia, Netherlands, Belgium, Sweden, Finland (X, Y).
	"XTA": "Lada", "XTT": "UAZ", "XLR": "DAF", "XL9": "Spyker",
	"YV1": "Volvo", "YV4": "Volvo", "YV2": "Volvo Trucks", "YV3": "Volvo Buses",
	"YS2": "Scania", "YS3": "Saab",

	// Italy (ZA-ZR).
	"ZFA": "Fiat", "ZAC": "Jeep", "ZFF": "Ferrari", "ZAR": "Alfa Romeo", "ZLA": "Lancia",
	"ZAM": "Maserati", "ZHW": "Lamborghini", "ZDM": "Ducati", "ZCF": "Iveco", "ZAP": "Piaggio",
	"ZGU": "Moto Guzzi", "ZD4": "Aprilia", "ZCG": "MV Agusta",

	// Oceania and South America (6-9).
	"6F4": "Nissan", "6FP": "Ford", "6G1": "Holden", "6G2": "Pontiac", "6H8": "Holden",
	"6MM": "Mitsubishi", "6T1": "Toyota",
	"8AF": "Ford", "8AG": "Chevrolet", "8AJ": "Toyota", "8AP": "Fiat", "8AW": "Volkswagen",
	"93H": "Honda", "93R": "Toyota", "93U": "Audi", "93X": "Mitsubishi", "94D": "Nissan",
	"9BD": "Fiat", "9BF": "Ford", "9BG": "Chevrolet", "9BH": "Hyundai", "9BM": "Mercedes-Benz",
	"9BR": "Toyota", "9BW": "Volkswagen", "9C2": "Honda", "9FB": "Renault",
}

// vinAlphabet is the order ISO 3780 ranges run in: letters (without I, O
// and Q), then 1-9, then 0.
const vinAlphabet = "ABCDEFGHJKLMNPRSTUVWXYZ1234567890"

// countryRange assigns the WMIs whose first two characters run from first
// to last (inclusive, in vinAlphabet order) to a country.
type countryRange struct {
	first, last string
	country     string
}

// countryRanges are the ISO 3780 country assignments by the first two
// characters of a WMI. Ranges not listed are left unknown.
var countryRanges = []countryRange{
	{"AA", "AH", "South Africa"}, {"AJ", "AN", "Côte d'Ivoire"},
	{"BA", "BE", "Angola"}, {"BF", "BK", "Kenya"}, {"BL", "BR", "Tanzania"},
	{"CA", "CE", "Benin"}, {"CF", "CK", "Madagascar"}, {"CL", "CR", "Tunisia"},
	{"DA", "DE", "Egypt"}, {"DF", "DK", "Morocco"}, {"DL", "DR", "Zambia"},
	{"EA", "EE", "Ethiopia"}, {"EF", "EK", "Mozambique"},
	{"FA", "FE", "Ghana"}, {"FF", "FK", "Nigeria"},
	{"JA", "J0", "Japan"},
	{"KA", "KE", "Sri Lanka"}, {"KF", "KK", "Israel"}, {"KL", "KR", "South Korea"}, {"KS", "K0", "Kazakhstan"},
	{"LA", "L0", "China"},
	{"MA", "ME", "India"}, {"MF", "MK", "Indonesia"}, {"ML", "MR", "Thailand"}, {"MS", "M0", "Myanmar"},
	{"NA", "NE", "Iran"}, {"NF", "NK", "Pakistan"}, {"NL", "NR", "Turkey"},
	{"PA", "PE", "Philippines"}, {"PF", "PK", "Singapore"}, {"PL", "PR", "Malaysia"},
	{"RA", "RE", "United Arab Emirates"}, {"RF", "RK", "Taiwan"}, {"RL", "RR", "Vietnam"}, {"RS", "R0", "Saudi Arabia"},
	{"SA", "SM", "United Kingdom"}, {"SN", "ST", "Germany"}, {"SU", "SZ", "Poland"}, {"S1", "S4", "Latvia"},
	{"TA", "TH", "Switzerland"}, {"TJ", "TP", "Czech Republic"}, {"TR", "TV", "Hungary"}, {"TW", "T1", "Portugal"},
	{"UU", "UU", "Romania"},
	{"VA", "VE", "Austria"}, {"VF", "VR", "France"}, {"VS", "VW", "Spain"}, {"VX", "V2", "Serbia"},
	{"V3", "V5", "Croatia"}, {"V6", "V0", "Estonia"},
	{"WA", "W0", "Germany"},
	{"XA", "XE", "Bulgaria"}, {"XF", "XK", "Greece"}, {"XL", "XR", "Netherlands"}, {"XS", "XW", "Russia"},
	{"XX", "X2", "Luxembourg"}, {"X3", "X0", "Russia"},
	{"YA", "YE", "Belgium"}, {"YF", "YK", "Finland"}, {"YL", "YR", "Malta"}, {"YS", "YW", "Sweden"},
	{"YX", "Y2", "Norway"}, {"Y3", "Y5", "Belarus"}, {"Y6", "Y0", "Ukraine"},
	{"ZA", "ZR", "Italy"}, {"ZX", "Z2", "Slovenia"}, {"Z3", "Z5", "Lithuania"},
	{"1A", "10", "United States"}, {"4A", "40", "United States"}, {"5A", "50", "United States"},
	{"7F", "70", "United States"},
	{"2A", "20", "Canada"},
	{"3A", "3W", "Mexico"}, {"3X", "37", "Costa Rica"},
	{"6A", "6W", "Australia"}, {"7A", "7E", "New Zealand"},
	{"8A", "8E", "Argentina"}, {"8F", "8K", "Chile"}, {"8L", "8R", "Ecuador"}, {"8S", "8W", "Peru"},
	{"8X", "82", "Venezuela"},
	{"9A", "9E", "Brazil"}, {"9F", "9K", "Colombia"}, {"9L", "9R", "Paraguay"}, {"9S", "9W", "Uruguay"},
	{"9X", "92", "Trinidad and Tobago"}, {"93", "99", "Brazil"},
}

// wmiCountry returns the country a WMI is assigned to, or "".
func wmiCountry(wmi string) string {
	pos := func(c byte) int {
		for i := 0; i < len(vinAlphabet); i++ {
			if vinAlphabet[i] == c {
				return i
			}
		}
		return -1
	}
	first, second := wmi[0], pos(wmi[1])
	for _, r := range countryRanges {
		if r.first[0] == first && pos(r.first[1]) <= second && second <= pos(r.last[1]) {
			return r.country
		}
	}
	return ""
}

// KnownWMIs lists the WMIs DecodeVIN names a manufacturer for, in no order.
func KnownWMIs() []string {
	out := make([]string, 0, len(wmiManufacturers))
	for wmi := range wmiManufacturers {
		out = append(out, wmi)
	}
	return out
}
