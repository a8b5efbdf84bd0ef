package menu

import (
	"strconv"
	"strings"
)

// currencySymbols are the symbols FormatPrice writes before an amount; other
// currencies are written with their ISO code after the amount.
var currencySymbols = map[string]string{
	"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£",
}

// zeroDecimalCurrencies have no minor unit, so their prices are whole units.
var zeroDecimalCurrencies = map[string]bool{"JPY": true, "KRW": true, "VND": true, "CLP": true, "ISK": true}

// FormatPrice writes an amount in the currency's smallest unit for people to read
// or hear: 1234 USD is "$12.34", 1234 EUR is "€12.34", 1234 CHF is "12.34 CHF" and
// 1234 JPY is "¥1234". Negative amounts get a leading minus sign.
func FormatPrice(amount int64, currency string) string {
	var b strings.Builder
	if amount < 0 {
		b.WriteByte('-')
	}
	// Negate in uint64 so that the smallest int64 keeps its magnitude.
	u := uint64(amount)
	if amount < 0 {
		u = -u
	}
	symbol, ok := currencySymbols[currency]
	if currency == "JPY" {
		symbol, ok = "¥", true
	}
	if ok {
		b.WriteString(symbol)
	}
	if zeroDecimalCurrencies[currency] {
		b.WriteString(strconv.FormatUint(u, 10))
	} else {
		b.WriteString(strconv.FormatUint(u/100, 10))
		b.WriteByte('.')
		cents := u % 100
		b.WriteByte(byte('0' + cents/10))
		b.WriteByte(byte('0' + cents%10))
	}
	if !ok && currency != "" {
		b.WriteByte(' ')
		b.WriteString(currency)
	}
	return b.String()
}
