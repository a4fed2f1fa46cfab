package export

import (
	"slices"

	"github.com/veil-privacy/veil/pkg/identifiers"
)

// Catalog is what an admin tells Veil about one campaign's data: where it
// came from, why it is used, with whom it is shared and how long it is
// kept (`veil catalog set`). The categories of personal data are not in
// it: they are derived from the columns the index classified.
type Catalog struct {
	Sources      []string `json:"sources" dynamodbav:"sources"`
	Purposes     []string `json:"purposes" dynamodbav:"purposes"`
	ThirdParties []string `json:"thirdParties" dynamodbav:"thirdParties"`
	Retention    string   `json:"retention" dynamodbav:"retention"`
}

// DefaultCampaign names the catalog every campaign without one of its own
// uses; DefaultCatalog is what it says until an admin sets it.
const DefaultCampaign = "default"

// DefaultCatalog is a contact center's usual answer, for a campaign no
// admin has described yet.
var DefaultCatalog = Catalog{
	Sources: []string{
		"Lead lists the business bought from or was given by marketing partners (data brokers, lead generators)",
		"Information you gave the business, its agents or its website",
	},
	Purposes: []string{
		"Contacting you by telephone, text message or email about products and services",
		"Keeping records of contacts, consents and opt-outs, as the law requires",
		"Quality assurance and fraud prevention",
	},
	ThirdParties: []string{
		"Service providers that run the business's dialing, messaging and customer-relationship systems",
		"Clients on whose behalf a campaign calls",
	},
	Retention: "Kept for as long as the campaign runs and up to 24 months after, then deleted; records of opt-outs are kept for as long as the opt-out applies.",
}

// Complete returns c with DefaultCatalog's answer for each part c leaves
// empty.
func (c Catalog) Complete() Catalog {
	if len(c.Sources) == 0 {
		c.Sources = DefaultCatalog.Sources
	}
	if len(c.Purposes) == 0 {
		c.Purposes = DefaultCatalog.Purposes
	}
	if len(c.ThirdParties) == 0 {
		c.ThirdParties = DefaultCatalog.ThirdParties
	}
	if c.Retention == "" {
		c.Retention = DefaultCatalog.Retention
	}
	return c
}

// categoryOf names the category of personal data of each column class, in
// the words of CCPA §1798.140(v) and §1798.140(ae).
var categoryOf = map[string]string{
	identifiers.FullName.String():      "Identifiers: name",
	identifiers.FirstName.String():     "Identifiers: name",
	identifiers.LastName.String():      "Identifiers: name",
	identifiers.Phone.String():         "Identifiers: telephone number",
	identifiers.Email.String():         "Identifiers: email address",
	identifiers.Address.String():       "Identifiers: postal address",
	identifiers.City.String():          "Identifiers: postal address",
	identifiers.State.String():         "Identifiers: postal address",
	identifiers.PostalCode.String():    "Identifiers: postal address",
	identifiers.CustomerID.String():    "Identifiers: customer number",
	identifiers.AccountNumber.String(): "Identifiers: account number",
	identifiers.DateOfBirth.String():   "Characteristics of protected classifications: age (date of birth)",
	identifiers.NationalID.String():    "Sensitive personal information: government identifier",
	identifiers.Business.String():      "Other information recorded with your contact details (campaign and commercial details)",
}

// Categories returns the categories of personal data in the fields of a
// record whose columns have the classes kinds (parallel to header), added
// to have without repeats and sorted: a column counts only where the
// record holds a value in it.
func Categories(have []string, header, kinds []string, fields map[string]string) []string {
	for i, name := range header {
		if i >= len(kinds) || fields[name] == "" {
			continue
		}
		c, ok := categoryOf[kinds[i]]
		if !ok {
			c = categoryOf[identifiers.Business.String()]
		}
		if !slices.Contains(have, c) {
			have = append(have, c)
		}
	}
	slices.Sort(have)
	return have
}
