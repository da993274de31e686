// Put first on the consumer's include path: if any installed eddy header
// pulled in Boost.Lockfree, the consumer's build would stop here.
#error "an eddy public header includes Boost.Lockfree, an implementation detail"
