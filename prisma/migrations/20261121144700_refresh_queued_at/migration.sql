-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "refreshQueuedAt" TIMESTAMP(3);
