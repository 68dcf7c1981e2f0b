package demo

import "github.com/tact-go/tact/consent"

// policyTexts are the texts of the shop's policy in languages other than
// English (the policy's own Description and Benefit are the English ones):
// each purpose's label ("purpose.KEY") and benefit ("benefit.KEY"), and
// the receipt's line on how to change one's mind, whose English comes from
// the policy's Withdraw.
var policyTexts = map[string]map[string]string{
	"de": {
		"purpose.service":              "Ihr Konto und Ihre Bestellungen führen",
		"purpose.service.checkout":     "Zahlung annehmen und Ihre Bestellung liefern",
		"benefit.service.checkout":     "ein schnellerer Bestellabschluss",
		"purpose.personalize":          "Den Shop auf Sie zuschneiden",
		"benefit.personalize":          "ein Shop, der zuerst zeigt, was zu Ihnen passt",
		"purpose.personalize.context":  "Vorschläge passend zur Seite, die Sie gerade ansehen, ohne Profil",
		"benefit.personalize.context":  "passende Artikel beim Stöbern",
		"purpose.personalize.declared": "Empfehlungen aus den Zielen und Größen, die Sie uns nennen",
		"benefit.personalize.declared": "Empfehlungen, die zu Ihrem Training passen",
		"purpose.personalize.feedback": "Lernen aus den Artikeln, die Ihnen gefallen oder die Sie ablehnen",
		"benefit.personalize.feedback": "weniger Vorschläge, die Sie nicht wollen",
		"purpose.personalize.history":  "Empfehlungen aus dem, was Sie gekauft haben",
		"benefit.personalize.history":  "Ideen, die zu dem passen, was Sie schon haben, ohne Wiederholungen",
		"purpose.analytics":            "Verstehen, wie der Shop genutzt wird",
		"purpose.analytics.aggregate":  "Statistiken über alle Kundinnen und Kunden, mit Differential Privacy geschützt",
		"benefit.analytics.aggregate":  "ein besseres Sortiment und Trendlisten, ohne dass Sie herausgegriffen werden",
		"purpose.marketing":            "Angebote und Neuigkeiten, die wir Ihnen schicken",
		"benefit.marketing":            "früher Zugang zu Sonderverkäufen",
		"purpose.marketing.email":      "Angebote per E-Mail",
		"benefit.marketing.email":      "früher Zugang zu Sonderverkäufen, per E-Mail",
		"purpose.advertising":          "Werbung auf anderen Websites und in Apps",
		"benefit.advertising":          "Werbung für Dinge, die Ihnen gefallen könnten, statt beliebiger",
		"purpose.advertising.targeted": "Werbung anderswo, nach dem, was Sie hier getan haben",
		"benefit.advertising.targeted": "Werbung für Dinge, die Ihnen gefallen könnten, statt beliebiger",
		"purpose.legal":                "Was das Gesetz von uns verlangt",
		"purpose.legal.obligation":     "Steuer- und Buchhaltungsunterlagen aufbewahren",
		// The policy's Withdraw, in German, in the receipt's line.
		"policy.withdraw": "unter „Ihre Daten“ > „Einstellungen“ auf acme.example, oder antworten Sie STOP auf eine unserer E-Mails.",
	},
}

// Catalog returns the texts people read about the shop's policy: the
// built-in texts of consent.NewCatalog (English and German) and the
// policy's labels and benefits in German, so that a German page shows no
// English policy text.
func Catalog() (*consent.Catalog, error) {
	c := consent.NewCatalog()
	for lang, msgs := range policyTexts {
		for k, t := range msgs {
			if err := c.Set(lang, k, t); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}
