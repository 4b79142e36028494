/* Stage 3 (C): evaluates the model on the points with stdio only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char path[4096], line[256];
	double a = 0, b = 0, x, y, err = 0;
	int n = 0;
	FILE *f;

	if (argc != 2)
		return 2;
	snprintf(path, sizeof(path), "%s/inputs/linear.json", argv[1]);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f))
		return 1;
	fclose(f);
	if (sscanf(line, "{\"a\": %lf, \"b\": %lf}", &a, &b) != 2)
		return 1;
	snprintf(path, sizeof(path), "%s/inputs/points.csv", argv[1]);
	f = fopen(path, "r");
	if (!f)
		return 1;
	if (!fgets(line, sizeof(line), f))	/* header */
		return 1;
	while (fscanf(f, "%lf,%lf", &x, &y) == 2) {
		err += (a * x + b - y) * (a * x + b - y);
		n++;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/outputs/report.txt", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "points: %d\nmean squared error: %.4f\n", n, err / n);
	if (fclose(f) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/metrics/evaluation.json", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "{\"mse\": %.6f, \"points\": %d}\n", err / n, n);
	return fclose(f) != 0;
}
