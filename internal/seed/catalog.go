package seed

import (
	"time"

	"github.com/carlot/carlot/models"
)

// The demo catalog: real makes and models with plausible prices, and invented
// dealers. Everything here is fixed data; changing it changes the demo
// vehicles, so treat it like a migration once people rely on the data.

// makeSpec is one demo make.
type makeSpec struct {
	name string
	// wmi is a real world manufacturer identifier of the make (VIN positions 1-3).
	wmi string
	// weight is the make's share of the used-car mix (any unit).
	weight int
	models []modelSpec
}

// modelSpec is one demo model.
type modelSpec struct {
	name string
	// code fills VIN positions 4-7 (the model part of the descriptor section).
	code string
	// price is the typical new price in whole dollars in the anchor year.
	price int64
	// from and to bound the model years it was sold in (to 0: still sold).
	from, to int
	// weight is the model's share within its make (any unit).
	weight int
	// fuels is the model's fuel mix; the first entry is the base fuel.
	fuels []fuelShare
}

type fuelShare struct {
	fuel   models.FuelType
	weight int
}

func gas() []fuelShare { return []fuelShare{{models.FuelGasoline, 1}} }

func electric() []fuelShare { return []fuelShare{{models.FuelElectric, 1}} }

func mix(gasoline, diesel, hybrid, electric int) []fuelShare {
	var out []fuelShare
	for _, f := range []fuelShare{
		{models.FuelGasoline, gasoline}, {models.FuelDiesel, diesel},
		{models.FuelHybrid, hybrid}, {models.FuelElectric, electric},
	} {
		if f.weight > 0 {
			out = append(out, f)
		}
	}
	return out
}

var catalog = []makeSpec{
	{name: "Toyota", wmi: "JTD", weight: 15, models: []modelSpec{
		{name: "Corolla", code: "BR3E", price: 24000, weight: 20, fuels: mix(85, 0, 15, 0)},
		{name: "Camry", code: "BF1K", price: 29000, weight: 18, fuels: mix(78, 0, 22, 0)},
		{name: "RAV4", code: "ZR4V", price: 32000, weight: 22, fuels: mix(68, 0, 32, 0)},
		{name: "Prius", code: "KN3U", price: 30000, weight: 8, fuels: mix(0, 0, 1, 0)},
		{name: "Highlander", code: "GK5H", price: 42000, weight: 10, fuels: mix(75, 0, 25, 0)},
		{name: "Tacoma", code: "TN4A", price: 35000, weight: 12, fuels: gas()},
		{name: "Tundra", code: "TY5F", price: 46000, weight: 7, fuels: mix(90, 0, 10, 0)},
		{name: "bZ4X", code: "EA1B", price: 44000, from: 2023, weight: 3, fuels: electric()},
	}},
	{name: "Honda", wmi: "1HG", weight: 11, models: []modelSpec{
		{name: "Civic", code: "FC2F", price: 26000, weight: 25, fuels: mix(90, 0, 10, 0)},
		{name: "Accord", code: "CV1F", price: 30000, weight: 18, fuels: mix(78, 0, 22, 0)},
		{name: "CR-V", code: "RW2H", price: 33000, weight: 26, fuels: mix(75, 0, 25, 0)},
		{name: "Pilot", code: "YF4H", price: 42000, weight: 12, fuels: gas()},
		{name: "HR-V", code: "RU5H", price: 27000, from: 2016, weight: 10, fuels: gas()},
		{name: "Odyssey", code: "RL6H", price: 40000, weight: 9, fuels: gas()},
	}},
	{name: "Ford", wmi: "1FA", weight: 13, models: []modelSpec{
		{name: "F-150", code: "FW1E", price: 48000, weight: 32, fuels: mix(95, 0, 5, 0)},
		{name: "F-150 Lightning", code: "FW1L", price: 60000, from: 2022, weight: 4, fuels: electric()},
		{name: "Escape", code: "CU0G", price: 31000, weight: 16, fuels: mix(82, 0, 18, 0)},
		{name: "Explorer", code: "K8DH", price: 41000, weight: 14, fuels: gas()},
		{name: "Mustang", code: "P8TH", price: 34000, weight: 9, fuels: gas()},
		{name: "Mustang Mach-E", code: "K3SU", price: 46000, from: 2021, weight: 6, fuels: electric()},
		{name: "Bronco", code: "E5DM", price: 42000, from: 2021, weight: 8, fuels: gas()},
		{name: "Maverick", code: "W1FH", price: 28000, from: 2022, weight: 11, fuels: mix(55, 0, 45, 0)},
	}},
	{name: "Chevrolet", wmi: "1G1", weight: 11, models: []modelSpec{
		{name: "Silverado 1500", code: "UY3E", price: 45000, weight: 30, fuels: gas()},
		{name: "Equinox", code: "FX5E", price: 30000, weight: 24, fuels: gas()},
		{name: "Malibu", code: "ZD5S", price: 27000, to: 2025, weight: 14, fuels: gas()},
		{name: "Tahoe", code: "YB1K", price: 60000, weight: 10, fuels: mix(92, 8, 0, 0)},
		{name: "Traverse", code: "RV2K", price: 40000, from: 2009, weight: 11, fuels: gas()},
		{name: "Bolt EV", code: "FW6S", price: 29000, from: 2017, to: 2023, weight: 6, fuels: electric()},
		{name: "Camaro", code: "FB1R", price: 33000, from: 2010, to: 2024, weight: 5, fuels: gas()},
	}},
	{name: "BMW", wmi: "WBA", weight: 5, models: []modelSpec{
		{name: "3 Series", code: "8E9G", price: 47000, weight: 28, fuels: mix(78, 12, 10, 0)},
		{name: "5 Series", code: "JA5C", price: 60000, weight: 16, fuels: mix(78, 12, 10, 0)},
		{name: "X1", code: "VP3C", price: 42000, from: 2012, weight: 14, fuels: gas()},
		{name: "X3", code: "TR5C", price: 50000, weight: 22, fuels: mix(82, 12, 6, 0)},
		{name: "X5", code: "CR4C", price: 68000, weight: 14, fuels: mix(76, 14, 10, 0)},
		{name: "i4", code: "21AW", price: 58000, from: 2022, weight: 6, fuels: electric()},
	}},
	{name: "Mercedes-Benz", wmi: "WDD", weight: 5, models: []modelSpec{
		{name: "C-Class", code: "WF4K", price: 49000, weight: 26, fuels: mix(80, 14, 6, 0)},
		{name: "E-Class", code: "ZF4J", price: 64000, weight: 16, fuels: mix(76, 18, 6, 0)},
		{name: "GLC", code: "0G4K", price: 51000, from: 2016, weight: 24, fuels: mix(82, 12, 6, 0)},
		{name: "GLE", code: "DA5H", price: 67000, from: 2016, weight: 14, fuels: mix(78, 16, 6, 0)},
		{name: "Sprinter", code: "PE7C", price: 54000, weight: 14, fuels: mix(20, 80, 0, 0)},
		{name: "EQS", code: "GM8E", price: 106000, from: 2022, weight: 6, fuels: electric()},
	}},
	{name: "Volkswagen", wmi: "WVW", weight: 6, models: []modelSpec{
		{name: "Golf", code: "A7AU", price: 28000, weight: 20, fuels: mix(72, 28, 0, 0)},
		{name: "Jetta", code: "M7AJ", price: 23000, weight: 24, fuels: mix(80, 20, 0, 0)},
		{name: "Passat", code: "K7A3", price: 29000, to: 2022, weight: 14, fuels: mix(78, 22, 0, 0)},
		{name: "Tiguan", code: "B7AX", price: 32000, weight: 22, fuels: mix(90, 10, 0, 0)},
		{name: "Atlas", code: "R7CA", price: 41000, from: 2018, weight: 12, fuels: gas()},
		{name: "ID.4", code: "M8EZ", price: 42000, from: 2021, weight: 8, fuels: electric()},
	}},
	{name: "Audi", wmi: "WAU", weight: 4, models: []modelSpec{
		{name: "A4", code: "ENAF", price: 45000, weight: 28, fuels: mix(86, 14, 0, 0)},
		{name: "A6", code: "K2AF", price: 60000, weight: 16, fuels: mix(86, 14, 0, 0)},
		{name: "Q5", code: "B4AY", price: 49000, from: 2009, weight: 30, fuels: mix(80, 10, 10, 0)},
		{name: "Q7", code: "L2AF", price: 63000, weight: 16, fuels: mix(85, 15, 0, 0)},
		{name: "Q8 e-tron", code: "TGGE", price: 76000, from: 2019, weight: 10, fuels: electric()},
	}},
	{name: "Hyundai", wmi: "KMH", weight: 8, models: []modelSpec{
		{name: "Elantra", code: "D84L", price: 23000, weight: 26, fuels: mix(86, 0, 14, 0)},
		{name: "Sonata", code: "E34L", price: 28000, weight: 14, fuels: mix(84, 0, 16, 0)},
		{name: "Tucson", code: "J3CA", price: 30000, weight: 24, fuels: mix(78, 0, 22, 0)},
		{name: "Santa Fe", code: "S4DB", price: 36000, weight: 16, fuels: mix(84, 0, 16, 0)},
		{name: "Kona", code: "K3CA", price: 26000, from: 2018, weight: 12, fuels: mix(72, 0, 0, 28)},
		{name: "Ioniq 5", code: "M4DE", price: 47000, from: 2022, weight: 8, fuels: electric()},
	}},
	{name: "Kia", wmi: "KNA", weight: 7, models: []modelSpec{
		{name: "Forte", code: "F4A2", price: 21000, weight: 20, fuels: gas()},
		{name: "Sportage", code: "P3AC", price: 29000, weight: 24, fuels: mix(84, 0, 16, 0)},
		{name: "Sorento", code: "R3A3", price: 35000, weight: 18, fuels: mix(80, 0, 20, 0)},
		{name: "Soul", code: "J2A5", price: 22000, from: 2010, weight: 14, fuels: mix(90, 0, 0, 10)},
		{name: "Telluride", code: "DAK1", price: 41000, from: 2020, weight: 14, fuels: gas()},
		{name: "EV6", code: "C3A1", price: 49000, from: 2022, weight: 10, fuels: electric()},
	}},
	{name: "Nissan", wmi: "1N4", weight: 8, models: []modelSpec{
		{name: "Altima", code: "BL4E", price: 28000, weight: 22, fuels: gas()},
		{name: "Sentra", code: "AB7A", price: 22000, weight: 20, fuels: gas()},
		{name: "Rogue", code: "BT3B", price: 31000, weight: 28, fuels: mix(95, 0, 5, 0)},
		{name: "Pathfinder", code: "DR5A", price: 39000, weight: 12, fuels: gas()},
		{name: "Leaf", code: "AZ1C", price: 30000, from: 2011, to: 2025, weight: 8, fuels: electric()},
		{name: "Frontier", code: "ED3E", price: 33000, weight: 10, fuels: gas()},
	}},
	{name: "Subaru", wmi: "JF1", weight: 5, models: []modelSpec{
		{name: "Outback", code: "BS9C", price: 32000, weight: 26, fuels: gas()},
		{name: "Forester", code: "SK9G", price: 31000, weight: 26, fuels: mix(92, 0, 8, 0)},
		{name: "Crosstrek", code: "GT7L", price: 28000, from: 2013, weight: 22, fuels: mix(94, 0, 6, 0)},
		{name: "Impreza", code: "GK8A", price: 24000, weight: 12, fuels: gas()},
		{name: "WRX", code: "VA1C", price: 35000, weight: 8, fuels: gas()},
		{name: "Ascent", code: "WM4D", price: 39000, from: 2019, weight: 6, fuels: gas()},
	}},
	{name: "Mazda", wmi: "JM1", weight: 5, models: []modelSpec{
		{name: "Mazda3", code: "BPAL", price: 25000, weight: 26, fuels: gas()},
		{name: "CX-5", code: "KFBW", price: 31000, from: 2013, weight: 32, fuels: gas()},
		{name: "CX-30", code: "DMBW", price: 27000, from: 2020, weight: 16, fuels: gas()},
		{name: "CX-90", code: "KKAM", price: 42000, from: 2024, weight: 8, fuels: mix(70, 0, 30, 0)},
		{name: "MX-5 Miata", code: "NDAM", price: 31000, weight: 6, fuels: gas()},
		{name: "Mazda6", code: "GJBL", price: 28000, to: 2021, weight: 12, fuels: gas()},
	}},
	{name: "Tesla", wmi: "5YJ", weight: 4, models: []modelSpec{
		{name: "Model S", code: "SA1E", price: 85000, from: 2012, weight: 12, fuels: electric()},
		{name: "Model 3", code: "3E1E", price: 43000, from: 2017, weight: 44, fuels: electric()},
		{name: "Model X", code: "XCAE", price: 90000, from: 2016, weight: 10, fuels: electric()},
		{name: "Model Y", code: "YGDE", price: 48000, from: 2020, weight: 34, fuels: electric()},
	}},
	{name: "Volvo", wmi: "YV1", weight: 3, models: []modelSpec{
		{name: "XC90", code: "A22P", price: 60000, weight: 24, fuels: mix(70, 6, 24, 0)},
		{name: "XC60", code: "DZ4R", price: 49000, from: 2010, weight: 32, fuels: mix(74, 6, 20, 0)},
		{name: "XC40", code: "XZ3V", price: 40000, from: 2019, weight: 20, fuels: mix(70, 0, 0, 30)},
		{name: "S60", code: "FA2R", price: 44000, weight: 14, fuels: mix(84, 4, 12, 0)},
		{name: "V60", code: "ZW2S", price: 46000, from: 2015, weight: 10, fuels: mix(80, 6, 14, 0)},
	}},
}

// dealerSpec is one demo dealer.
type dealerSpec struct {
	name, city string
	// franchise is the make the dealer sells new ("" for an independent
	// used-car lot, which sells every make but nothing new).
	franchise string
	// weight is the dealer's share of the vehicles (any unit).
	weight int
}

// dealers are invented: any resemblance to a real business is a coincidence.
var dealers = []dealerSpec{
	{"Lakeshore Toyota", "Toronto", "Toyota", 5},
	{"Bayview Honda", "Toronto", "Honda", 4},
	{"Northgate Motors", "Toronto", "", 6},
	{"Harbourview Hyundai", "Vancouver", "Hyundai", 4},
	{"Seawall Subaru", "Vancouver", "Subaru", 3},
	{"Granville Auto Gallery", "Vancouver", "", 5},
	{"Mont-Royal Volkswagen", "Montreal", "Volkswagen", 3},
	{"Plateau Mazda", "Montreal", "Mazda", 3},
	{"Saint-Laurent Autos", "Montreal", "", 5},
	{"Foothills Ford", "Calgary", "Ford", 5},
	{"Chinook Chevrolet", "Calgary", "Chevrolet", 4},
	{"Bow Valley Motors", "Calgary", "", 4},
	{"Riverside Toyota", "Edmonton", "Toyota", 4},
	{"Capital Nissan", "Edmonton", "Nissan", 3},
	{"Prairie Auto Exchange", "Edmonton", "", 4},
	{"Rideau BMW", "Ottawa", "BMW", 3},
	{"Westboro Mercedes-Benz", "Ottawa", "Mercedes-Benz", 3},
	{"Ottawa Valley Kia", "Ottawa", "Kia", 3},
	{"Red River Ford", "Winnipeg", "Ford", 4},
	{"Assiniboine Hyundai", "Winnipeg", "Hyundai", 3},
	{"Portage Avenue Motors", "Winnipeg", "", 4},
	{"Sainte-Foy Audi", "Quebec City", "Audi", 2},
	{"Laurentian Honda", "Quebec City", "Honda", 3},
	{"Cap-Rouge Automobiles", "Quebec City", "", 3},
	{"Escarpment Chevrolet", "Hamilton", "Chevrolet", 3},
	{"Steeltown Kia", "Hamilton", "Kia", 3},
	{"Harbourfront Motors", "Hamilton", "", 3},
	{"Bedford Basin Nissan", "Halifax", "Nissan", 3},
	{"Atlantic Volvo", "Halifax", "Volvo", 2},
	{"Maritime Motors", "Halifax", "", 3},
	{"Island Volvo", "Victoria", "Volvo", 2},
	{"Saanich Subaru", "Victoria", "Subaru", 2},
	{"Harbour City Autos", "Victoria", "", 3},
	{"Bridge City Toyota", "Saskatoon", "Toyota", 3},
	{"River Landing Mazda", "Saskatoon", "Mazda", 2},
	{"Stonebridge Motors", "Saskatoon", "", 3},
}

// dealerCreatedAt is when demo dealer d joined: fixed, a month apart, all
// well before any demo vehicle of a small seed.
func dealerCreatedAt(d int) time.Time {
	return anchor.AddDate(-4, 0, 0).Add(time.Duration(d) * 30 * 24 * time.Hour)
}

// colors is the paint palette with its shares; a few vehicles have no color
// recorded (NULL), see colorUnknownPerMille.
var colors = []struct {
	name   string
	weight int
}{
	{"White", 240}, {"Black", 200}, {"Gray", 170}, {"Silver", 120},
	{"Blue", 90}, {"Red", 90}, {"Green", 20}, {"Brown", 15},
	{"Beige", 12}, {"Burgundy", 12}, {"Orange", 8}, {"Yellow", 5},
}

const colorUnknownPerMille = 20
