package main

// OWNER: the sensors work (package runtime/sensor). This file is a placeholder
// kept small on purpose: replace the body with a call to the sensor package's
// report (for example sensor.Doctor(a.stdout)) once it exists.

// doctorCommand implements `tracegen doctor`: report which energy sensors work here.
func (a *app) doctorCommand() error {
	a.logf("'tracegen doctor' is not available yet: the energy sensors are not wired into this build")
	return errUsage
}
