module aksvault/upstream

go 1.26
