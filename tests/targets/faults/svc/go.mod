module faultsvc

go 1.19
