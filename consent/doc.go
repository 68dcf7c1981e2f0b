// Package consent decides whether a person's data may be used for a purpose,
// says why, and can prove it.
//
// Purposes ("personalize.history") and data categories
// ("user.behavior.purchase_history") are dotted hierarchical keys; a key
// covers its descendants. The package ships a default taxonomy for retail
// personalization and the list of sensitive categories (GDPR Art. 9, CPRA
// sensitive personal information).
package consent
