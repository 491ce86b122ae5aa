package dev.flock; public class Main { public static void main(String[] a){} }
