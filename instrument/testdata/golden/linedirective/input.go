package linedirective

//line generated.tmpl:10
//trace:span
func fromTemplate() int {
	return 1
}

//trace:span
func after() int {
	/*line other.tmpl:3:1*/ return 2
}
