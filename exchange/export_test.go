package exchange

// Precise causes and defaults for the external tests (package
// exchange_test); compiled only with the tests.
var (
	ErrRedirectForTest           = errRedirect
	ErrNoIDTokenForTest          = errNoIDToken
	ErrIssuerMissingForTest      = errIssuerMissing
	ErrTransactionExpiredForTest = errTransactionExpired
)

// DefaultTransactionMaxAgeForTest is the default of Config.TransactionMaxAge.
const DefaultTransactionMaxAgeForTest = defaultTransactionMaxAge
