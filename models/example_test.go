package models_test

import (
	"fmt"

	"6.5840/models"
	"6.5840/porcupine"
)

// Two clients append to one key at the same time; a third reads both values
// afterwards. Either order of the appends could explain the read, but two
// reads that disagree on the order cannot both be right.
func ExampleKvModel() {
	history := []porcupine.Operation{
		{ClientId: 0, Input: models.KvInput{Op: models.OpAppend, Key: "k", Value: "a"}, Call: 0, Output: models.KvOutput{}, Return: 10},
		{ClientId: 1, Input: models.KvInput{Op: models.OpAppend, Key: "k", Value: "b"}, Call: 5, Output: models.KvOutput{}, Return: 15},
		{ClientId: 2, Input: models.KvInput{Op: models.OpGet, Key: "k"}, Call: 20, Output: models.KvOutput{Value: "ba"}, Return: 30},
	}
	fmt.Println(porcupine.CheckOperations(models.KvModel, history))

	history = append(history, porcupine.Operation{
		ClientId: 2, Input: models.KvInput{Op: models.OpGet, Key: "k"}, Call: 40, Output: models.KvOutput{Value: "ab"}, Return: 50,
	})
	fmt.Println(porcupine.CheckOperations(models.KvModel, history))
	// Output:
	// true
	// false
}
