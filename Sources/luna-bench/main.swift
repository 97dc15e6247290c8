import LunaBenchmarks

LunaBench.main()
