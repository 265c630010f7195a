# Instruments a tenant may price. Tenants not listed may price any instrument.
package riskgrid.admission

allowed_instruments := {"sandbox": {"european", "digital", "stock"}}

deny contains msg if {
	allowed := allowed_instruments[input.tenant]
	some kind in input.job.instruments
	not allowed[kind]
	msg := sprintf("instruments: tenant %s may not price %s instruments", [input.tenant, kind])
}
