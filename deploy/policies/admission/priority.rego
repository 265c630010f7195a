# Priority ceiling: high priorities are for the desks that run intraday risk.
package riskgrid.admission

priority_ceiling := {"default": 50, "intraday": 100}

deny contains msg if {
	ceiling := object.get(priority_ceiling, input.tenant, priority_ceiling["default"])
	input.job.priority > ceiling
	msg := sprintf("priority: %d is above tenant %s's ceiling of %d", [input.job.priority, input.tenant, ceiling])
}
